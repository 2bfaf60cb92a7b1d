import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAGIC, type SimulatorHandle } from '../../src/simulator/index';
import { MessageRecord } from './schemas';
import { getRecord, login, sendFax, simFaxes, sleep, start, waitFor } from './helpers';

describe('outcomes chosen by recipient number', () => {
  let sim: SimulatorHandle;
  let token: string;
  beforeEach(async () => {
    // 0.0005: a simulated minute is 30 ms, ten simulated minutes 300 ms
    sim = await start({ rateLimits: false, timeScale: 0.0005 });
    token = (await login(sim)).access_token;
  });
  afterEach(async () => {
    await sim.close();
  });

  const send = async (to: string | string[]): Promise<number> =>
    MessageRecord.parse(await (await sendFax(sim, token, to)).json()).id;
  const final = (id: number) =>
    waitFor(
      () => getRecord(sim, token, id),
      (r) => ['Delivered', 'DeliveryFailed', 'SendingFailed'].includes(r.messageStatus),
    );

  it(`${MAGIC.busyTwiceThenDelivered}: LineBusy on the first two sends, Delivered on the third`, async () => {
    const results = [];
    for (let i = 0; i < 3; i++) {
      const rec = await final(await send(MAGIC.busyTwiceThenDelivered));
      results.push([rec.messageStatus, rec.to[0]?.messageStatus, rec.to[0]?.faxErrorCode]);
    }
    expect(results).toEqual([
      ['DeliveryFailed', 'DeliveryFailed', 'LineBusy'],
      ['DeliveryFailed', 'DeliveryFailed', 'LineBusy'],
      ['Delivered', 'Delivered', undefined],
    ]);
  });

  it(`${MAGIC.busyTwiceThenDelivered}: the count restarts after /_sim/reset`, async () => {
    await final(await send(MAGIC.busyTwiceThenDelivered));
    await fetch(`${sim.url}/_sim/reset`, { method: 'POST' });
    const rec = await final(await send(MAGIC.busyTwiceThenDelivered));
    expect(rec.to[0]?.faxErrorCode).toBe('LineBusy');
  });

  it(`${MAGIC.noAnswer}: NoAnswer always`, async () => {
    for (let i = 0; i < 3; i++) {
      const rec = await final(await send(MAGIC.noAnswer));
      expect(rec.messageStatus).toBe('DeliveryFailed');
      expect(rec.to[0]).toMatchObject({ messageStatus: 'DeliveryFailed', faxErrorCode: 'NoAnswer' });
    }
  });

  it(`${MAGIC.invalidNumber}: SendingFailed with InvalidNumber, never Sent`, async () => {
    const id = await send(MAGIC.invalidNumber);
    const rec = await final(id);
    expect(rec.messageStatus).toBe('SendingFailed');
    expect(rec.to[0]).toMatchObject({ messageStatus: 'SendingFailed', faxErrorCode: 'InvalidNumber' });
    const [f] = await simFaxes(sim);
    expect(f?.history.map((h) => [h.status, h.faxErrorCode])).toEqual([
      ['Queued', null],
      ['SendingFailed', 'InvalidNumber'],
    ]);
  });

  it(`${MAGIC.slowDelivery}: Delivered only after 10 simulated minutes`, async () => {
    const id = await send(MAGIC.slowDelivery);
    const sent = await waitFor(
      () => getRecord(sim, token, id),
      (r) => r.messageStatus === 'Sent',
    );
    expect(sent.to[0]?.messageStatus).toBe('Sent');
    const rec = await final(id);
    expect(rec.messageStatus).toBe('Delivered');
    const [f] = await simFaxes(sim);
    const delivered = Date.parse(f?.history.find((h) => h.status === 'Delivered')?.at ?? '');
    expect(delivered - Date.parse(f?.createdAt ?? '')).toBeGreaterThanOrEqual(300);
  });

  it(`${MAGIC.sentNeverDelivered}: reaches Sent and never Delivered`, async () => {
    const id = await send(MAGIC.sentNeverDelivered);
    await waitFor(
      () => getRecord(sim, token, id),
      (r) => r.messageStatus === 'Sent',
    );
    await sleep(500); // > 15 simulated minutes
    const rec = await getRecord(sim, token, id);
    expect(rec.messageStatus).toBe('Sent');
    expect(rec.to[0]?.faxErrorCode).toBeUndefined();
  });

  it(`${MAGIC.renderingFailed}: SendingFailed with RenderingFailed`, async () => {
    const rec = await final(await send(MAGIC.renderingFailed));
    expect(rec.messageStatus).toBe('SendingFailed');
    expect(rec.to[0]).toMatchObject({ messageStatus: 'SendingFailed', faxErrorCode: 'RenderingFailed' });
  });

  it('any other number: Queued -> Sent -> Delivered', async () => {
    const id = await send('+16505550199');
    await final(id);
    const [f] = await simFaxes(sim);
    expect(f?.history.map((h) => h.status)).toEqual(['Queued', 'Sent', 'Delivered']);
  });

  it('numbers match whatever their formatting', async () => {
    const rec = await final(await send('1 (555) 000-0003'));
    expect(rec.to[0]?.faxErrorCode).toBe('InvalidNumber');
  });

  it('top-level status aggregates the recipients; each recipient keeps its own status and error', async () => {
    const rec = await final(await send(['+16505550198', MAGIC.noAnswer]));
    expect(rec.messageStatus).toBe('DeliveryFailed');
    expect(rec.to.map((t) => [t.messageStatus, t.faxErrorCode])).toEqual([
      ['Delivered', undefined],
      ['DeliveryFailed', 'NoAnswer'],
    ]);
    const mixed = await final(await send([MAGIC.invalidNumber, MAGIC.noAnswer]));
    expect(mixed.messageStatus).toBe('SendingFailed');
  });

  it('a broken PDF fails rendering', async () => {
    const r = await sendFax(sim, token, '+16505550197', [
      { filename: 'bad.pdf', body: '%PDF-1.4\n garbage without pages' },
    ]);
    const rec = await final(MessageRecord.parse(await r.json()).id);
    expect(rec.to[0]).toMatchObject({ messageStatus: 'SendingFailed', faxErrorCode: 'RenderingFailed' });
  });
});
