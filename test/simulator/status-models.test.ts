import { describe, expect, it } from 'vitest';
import { MAGIC } from '../../src/simulator/index';
import { MessageRecord } from './schemas';
import { getRecord, login, sendFax, simFaxes, start, useSim, waitFor } from './helpers';

const FINAL = ['Sent', 'SendingFailed', 'Delivered', 'DeliveryFailed'];

describe('status model sent-final (the default)', () => {
  // 0.0005: a simulated minute is 30 ms, ten simulated minutes 300 ms
  const ctx = useSim({ rateLimits: false, timeScale: 0.0005 });

  const send = async (to: string | string[], token = ctx.token): Promise<number> =>
    MessageRecord.parse(await (await sendFax(ctx.sim, token, to)).json()).id;
  const settled = (id: number, token = ctx.token) =>
    waitFor(
      () => getRecord(ctx.sim, token, id),
      (r) => FINAL.includes(r.messageStatus) && r.to.every((t) => FINAL.includes(t.messageStatus)),
    );
  const history = async (id: number) =>
    (await simFaxes(ctx.sim))
      .find((f) => f.id === id)
      ?.history.filter((h) => h.status !== 'Queued')
      .map((h) => [h.status, h.faxErrorCode]);

  it('an ordinary number ends at Sent and never reports Delivered', async () => {
    const id = await send('+16505550199');
    const rec = await settled(id);
    expect(rec.messageStatus).toBe('Sent');
    expect(rec.to[0]).toMatchObject({ messageStatus: 'Sent' });
    expect(rec.to[0]?.faxErrorCode).toBeUndefined();
    // a later fax to a slow number settles after ten simulated minutes; the first still shows Sent only
    await settled(await send(MAGIC.slowDelivery));
    expect(await history(id)).toEqual([['Sent', null]]);
  });

  it.each([
    [MAGIC.noAnswer, 'NoAnswer'],
    [MAGIC.invalidNumber, 'InvalidNumber'],
    [MAGIC.renderingFailed, 'RenderingFailed'],
  ])('%s: Queued -> SendingFailed with %s, never Sent', async (number, code) => {
    const id = await send(number);
    const rec = await settled(id);
    expect(rec.messageStatus).toBe('SendingFailed');
    expect(rec.to[0]).toMatchObject({ messageStatus: 'SendingFailed', faxErrorCode: code });
    expect(await history(id)).toEqual([['SendingFailed', code]]);
  });

  it(`${MAGIC.busyTwiceThenDelivered}: LineBusy as SendingFailed twice, then Sent`, async () => {
    const results = [];
    for (let i = 0; i < 3; i++) {
      const rec = await settled(await send(MAGIC.busyTwiceThenDelivered));
      results.push([rec.messageStatus, rec.to[0]?.faxErrorCode]);
    }
    expect(results).toEqual([
      ['SendingFailed', 'LineBusy'],
      ['SendingFailed', 'LineBusy'],
      ['Sent', undefined],
    ]);
  });

  it(`${MAGIC.slowDelivery}: Sent only after ten simulated minutes`, async () => {
    const id = await send(MAGIC.slowDelivery);
    await settled(id);
    const f = (await simFaxes(ctx.sim)).find((x) => x.id === id);
    const sentAt = Date.parse(f?.history.find((h) => h.status === 'Sent')?.at ?? '');
    expect(sentAt - Date.parse(f?.createdAt ?? '')).toBeGreaterThanOrEqual(300);
  });

  it('a failed recipient makes the whole fax SendingFailed (the reference: any failed -> SendingFailed)', async () => {
    const rec = await settled(await send(['+16505550198', MAGIC.noAnswer]));
    expect(rec.messageStatus).toBe('SendingFailed');
    expect(rec.to.map((t) => [t.messageStatus, t.faxErrorCode])).toEqual([
      ['Sent', undefined],
      ['SendingFailed', 'NoAnswer'],
    ]);
  });

  it('is chosen per user: /_sim/users switches one user, the other keeps its model', async () => {
    await ctx.restart({
      rateLimits: false,
      timeScale: 0.0005,
      extraUsers: [{ jwt: 'second-user-jwt', statusModel: 'delivery-reports' }],
    });
    const second = (await login(ctx.sim, { assertion: 'second-user-jwt' })).access_token;
    const users = (await (await fetch(`${ctx.sim.url}/_sim/users`)).json()) as {
      users: Array<{ extensionId: string; statusModel: string }>;
    };
    expect(users.users.map((u) => u.statusModel)).toEqual(['sent-final', 'delivery-reports']);
    expect((await settled(await send('+16505550101'))).messageStatus).toBe('Sent');
    const other = await send('+16505550102', second);
    await waitFor(
      () => getRecord(ctx.sim, second, other),
      (r) => r.messageStatus === 'Delivered',
    );

    const first = users.users[0]?.extensionId ?? '';
    const r = await fetch(`${ctx.sim.url}/_sim/users/${first}`, {
      method: 'POST',
      body: JSON.stringify({ statusModel: 'delivery-reports' }),
    });
    expect(r.status).toBe(200);
    const later = await send('+16505550103');
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, later),
      (x) => x.messageStatus === 'Delivered',
    );
  });

  it('is chosen by scenario, at start or through /_sim/scenario', async () => {
    const sim = await start({ scenario: 'delivery-reports', statusModel: 'sent-final' });
    try {
      const users = (await (await fetch(`${sim.url}/_sim/users`)).json()) as {
        users: Array<{ statusModel: string }>;
      };
      expect(users.users[0]?.statusModel).toBe('delivery-reports');
    } finally {
      await sim.close();
    }
    const r = await fetch(`${ctx.sim.url}/_sim/scenario`, {
      method: 'POST',
      body: JSON.stringify({ name: 'delivery-reports' }),
    });
    expect(await r.json()).toMatchObject({ statusModel: 'delivery-reports' });
    const id = await send('+16505550104');
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, id),
      (x) => x.messageStatus === 'Delivered',
    );
  });

  it('refuses an unknown model or scenario', async () => {
    await expect(start({ statusModel: 'nope' as never })).rejects.toThrow(/statusModel must be one of/);
    const r = await fetch(`${ctx.sim.url}/_sim/users/~`, {
      method: 'POST',
      body: JSON.stringify({ statusModel: 'nope' }),
    });
    expect(r.status).toBe(400);
    const s = await fetch(`${ctx.sim.url}/_sim/scenario`, {
      method: 'POST',
      body: JSON.stringify({ name: 'nope' }),
    });
    expect(s.status).toBe(400);
  });
});
