/** Conformance: default cover page, send-response shape, message store (batch GET, restore, perPage), subscriptions. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiErrorBody, MessageRecord, SubscriptionRecord } from './schemas';
import { startReceiver, type Receiver } from './receiver';
import { api, FAX_PATH, faxForm, getRecord, sendFax, simFaxes, STORE_PATH, useSim, waitFor } from './helpers';

const FILTER = '/restapi/v1.0/account/~/extension/~/message-store?type=Fax&direction=Outbound';
const SUB = '/restapi/v1.0/subscription';
const TXT = [{ filename: 'doc.txt', body: 'hello', contentType: 'text/plain' }];

describe('conformance: sending and the message store', () => {
  const ctx = useSim({ rateLimits: false, timeScale: 0.001 });

  const send = async (envelope: Record<string, unknown>): Promise<Record<string, unknown>> =>
    (await (
      await api(ctx.sim, ctx.token).post(
        FAX_PATH,
        faxForm({ to: [{ phoneNumber: '+16505550401' }], ...envelope }, TXT),
      )
    ).json()) as Record<string, unknown>;
  const rendered = (id: number) =>
    waitFor(
      () => getRecord(ctx.sim, ctx.token, id),
      (r) => r.faxPageCount > 0,
    );

  it("coverIndex omitted adds the account's default cover page (one more page); 0 means none", async () => {
    const withDefault = MessageRecord.parse(await send({}));
    const without = MessageRecord.parse(await send({ coverIndex: 0 }));
    expect([
      (await rendered(withDefault.id)).faxPageCount,
      (await rendered(without.id)).faxPageCount,
    ]).toEqual([2, 1]);
    expect(withDefault.coverIndex).toBe(1);
    const sims = await simFaxes(ctx.sim);
    expect(sims.map((f) => [f.coverIndex, f.defaultCover])).toEqual([
      [1, true],
      [0, false],
    ]);
  });

  it('the send response carries attachments[].filename and to[].recipientId; GET carries fileName', async () => {
    const sent = (await send({ coverIndex: 0 })) as {
      id: number;
      attachments: Array<Record<string, unknown>>;
      to: Array<Record<string, unknown>>;
    };
    expect(sent.attachments[0]).toMatchObject({ filename: 'doc.txt' });
    expect(sent.attachments[0]).not.toHaveProperty('fileName');
    expect(sent.to[0]?.['recipientId']).toMatch(/^\d+$/);
    const got = (await (await api(ctx.sim, ctx.token).get(`${STORE_PATH}/${sent.id}`)).json()) as typeof sent;
    expect(got.attachments[0]).toMatchObject({ fileName: 'doc.txt' });
    expect(got.attachments[0]).not.toHaveProperty('filename');
  });

  it('an outbound fax reports readStatus Read', async () => {
    expect(MessageRecord.parse(await send({ coverIndex: 0 })).readStatus).toBe('Read');
  });

  it('GET with comma-separated ids answers 207 multipart/mixed with one part per id', async () => {
    const a = MessageRecord.parse(await send({ coverIndex: 0 })).id;
    const b = MessageRecord.parse(await send({ coverIndex: 0 })).id;
    const r = await api(ctx.sim, ctx.token).get(`${STORE_PATH}/${a},999,${b}`);
    expect(r.status).toBe(207);
    const boundary = /boundary=(\S+)/.exec(r.headers.get('content-type') ?? '')?.[1] ?? '';
    expect(r.headers.get('content-type')).toMatch(/^multipart\/mixed/);
    const parts = (await r.text())
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((p) => JSON.parse(p.slice(p.indexOf('\r\n\r\n') + 4).trim()) as Record<string, unknown>);
    expect(parts).toHaveLength(4);
    expect((parts[0] as { response: Array<{ status: number }> }).response.map((x) => x.status)).toEqual([
      200, 404, 200,
    ]);
    expect([parts[1]?.['id'], parts[2]?.['errorCode'], parts[3]?.['id']]).toEqual([a, 'CMN-102', b]);
  });

  it('more than 30 ids in one GET is CMN-106', async () => {
    const ids = Array.from({ length: 31 }, (_, i) => String(i + 1)).join(',');
    const r = await api(ctx.sim, ctx.token).get(`${STORE_PATH}/${ids}`);
    expect(r.status).toBe(400);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-106');
  });

  it('PATCH availability Alive restores a Deleted message', async () => {
    const id = MessageRecord.parse(await send({ coverIndex: 0 })).id;
    const a = api(ctx.sim, ctx.token);
    expect((await a.del(`${STORE_PATH}/${id}`)).status).toBe(204);
    expect((await getRecord(ctx.sim, ctx.token, id)).availability).toBe('Deleted');
    const r = await a.call('PATCH', `${STORE_PATH}/${id}`, JSON.stringify({ availability: 'Alive' }), {
      'Content-Type': 'application/json',
    });
    expect(r.status).toBe(200);
    expect(MessageRecord.parse(await r.json()).availability).toBe('Alive');
    expect((await getRecord(ctx.sim, ctx.token, id)).availability).toBe('Alive');
  });
});

describe('conformance: subscriptions', () => {
  const ctx = useSim({ rateLimits: false, timeScale: 0.001 });
  let rx: Receiver;
  beforeEach(async () => {
    rx = await startReceiver();
  });
  afterEach(async () => {
    await rx.close();
  });

  const subscribe = (extra: Record<string, unknown> = {}): Promise<Response> =>
    api(ctx.sim, ctx.token).postJson(SUB, {
      eventFilters: [FILTER],
      deliveryMode: { transportType: 'WebHook', address: rx.url },
      ...extra,
    });

  it('at most 30 subscriptions per app and user: the 31st is 403 SUB-505', async () => {
    for (let i = 0; i < 30; i++) expect((await subscribe()).status).toBe(200);
    const r = await subscribe();
    expect(r.status).toBe(403);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('SUB-505');
  });

  it('the cap is an option, since sources disagree (about 30 or about 20)', async () => {
    await ctx.restart({ rateLimits: false, timeScale: 0.001, maxSubscriptionsPerUser: 20 });
    for (let i = 0; i < 20; i++) expect((await subscribe()).status).toBe(200);
    expect(ApiErrorBody.parse(await (await subscribe()).json()).errorCode).toBe('SUB-505');
  });

  it('expiresIn is at most 315360000', async () => {
    expect((await subscribe({ expiresIn: 315_360_000 })).status).toBe(200);
    const r = await subscribe({ expiresIn: 315_360_001 });
    expect(r.status).toBe(400);
    expect(ApiErrorBody.parse(await r.json()).errors[0]?.parameterName).toBe('expiresIn');
  });

  it('a Suspended subscription receives nothing; renew makes it Active again', async () => {
    const sub = SubscriptionRecord.parse(await (await subscribe()).json());
    const s = await fetch(`${ctx.sim.url}/_sim/subscriptions/${sub.id}/suspend`, { method: 'POST' });
    expect(SubscriptionRecord.parse(await s.json()).status).toBe('Suspended');
    const a = api(ctx.sim, ctx.token);
    expect(SubscriptionRecord.parse(await (await a.get(`${SUB}/${sub.id}`)).json()).status).toBe('Suspended');
    const first = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550402')).json());
    // the fax settles while suspended, and nothing is delivered for it
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, first.id),
      (r) => r.messageStatus === 'Sent',
    );
    expect(rx.notifications()).toHaveLength(0);
    const renewed = SubscriptionRecord.parse(await (await a.post(`${SUB}/${sub.id}/renew`)).json());
    expect(renewed.status).toBe('Active');
    const second = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550403')).json());
    await waitFor(
      async () => rx.notifications().map((n) => JSON.stringify(n.json)),
      (all) => all.some((n) => n.includes(String(second.id))),
    );
  });
});
