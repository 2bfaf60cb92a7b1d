import { describe, expect, it } from 'vitest';
import { MAGIC } from '../../src/simulator/index';
import { MessageRecord } from './schemas';
import { getRecord, sendFax, simFaxes, sleep, waitFor, useSim } from './helpers';

const FINAL = ['Delivered', 'DeliveryFailed', 'SendingFailed'];

describe('outcomes chosen by recipient number (delivery-reports)', () => {
  const ctx = useSim({ statusModel: 'delivery-reports', rateLimits: false, timeScale: 0.0005 });

  const send = async (to: string | string[]): Promise<number> =>
    MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, to)).json()).id;
  const final = (id: number) =>
    waitFor(
      () => getRecord(ctx.sim, ctx.token, id),
      // every recipient final, not only the aggregate: one recipient's failure can precede another's Delivered
      (r) => [r.messageStatus, ...r.to.map((t) => t.messageStatus)].every((s) => FINAL.includes(s)),
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
    await fetch(`${ctx.sim.url}/_sim/reset`, { method: 'POST' });
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
    const [f] = await simFaxes(ctx.sim);
    expect(f?.history.map((h) => [h.status, h.faxErrorCode])).toEqual([
      ['Queued', null],
      ['SendingFailed', 'InvalidNumber'],
    ]);
  });

  it(`${MAGIC.slowDelivery}: Delivered only after 10 simulated minutes`, async () => {
    const id = await send(MAGIC.slowDelivery);
    const sent = await waitFor(
      () => getRecord(ctx.sim, ctx.token, id),
      (r) => r.messageStatus === 'Sent',
    );
    expect(sent.to[0]?.messageStatus).toBe('Sent');
    const rec = await final(id);
    expect(rec.messageStatus).toBe('Delivered');
    const [f] = await simFaxes(ctx.sim);
    const delivered = Date.parse(f?.history.find((h) => h.status === 'Delivered')?.at ?? '');
    expect(delivered - Date.parse(f?.createdAt ?? '')).toBeGreaterThanOrEqual(300);
  });

  it(`${MAGIC.sentNeverDelivered}: reaches Sent and never Delivered`, async () => {
    const id = await send(MAGIC.sentNeverDelivered);
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, id),
      (r) => r.messageStatus === 'Sent',
    );
    await sleep(500); // > 15 simulated minutes
    const rec = await getRecord(ctx.sim, ctx.token, id);
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
    const [f] = await simFaxes(ctx.sim);
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
    const r = await sendFax(ctx.sim, ctx.token, '+16505550197', [
      { filename: 'bad.pdf', body: '%PDF-1.4\n garbage without pages' },
    ]);
    const rec = await final(MessageRecord.parse(await r.json()).id);
    expect(rec.to[0]).toMatchObject({ messageStatus: 'SendingFailed', faxErrorCode: 'RenderingFailed' });
  });
});
