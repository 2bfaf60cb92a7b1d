import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MessageRecord } from './schemas';
import { api, pdf, sendFax, simFaxes, STORE_PATH, waitFor, useSim } from './helpers';

describe('/_sim control endpoints', () => {
  const ctx = useSim({ statusModel: 'delivery-reports', rateLimits: false });

  it('GET /_sim/faxes lists every accepted fax with recipients, attachment digests and status history', async () => {
    const doc = await pdf(1);
    const sent = MessageRecord.parse(
      await (
        await sendFax(
          ctx.sim,
          ctx.token,
          ['+16505550180', '+16505550181'],
          [
            { filename: 'one.pdf', body: doc, contentType: 'application/pdf' },
            { filename: 'two.txt', body: 'second', contentType: 'text/plain' },
          ],
        )
      ).json(),
    );
    await waitFor(
      () => simFaxes(ctx.sim),
      (f) => f[0]?.messageStatus === 'Delivered',
    );
    const [fax] = await simFaxes(ctx.sim);
    expect(fax).toMatchObject({
      id: sent.id,
      recipients: [
        { phoneNumber: '+16505550180', messageStatus: 'Delivered', faxErrorCode: null },
        { phoneNumber: '+16505550181', messageStatus: 'Delivered', faxErrorCode: null },
      ],
      attachments: [
        {
          filename: 'one.pdf',
          contentType: 'application/pdf',
          size: doc.length,
          sha256: createHash('sha256').update(doc).digest('hex'),
        },
        {
          filename: 'two.txt',
          contentType: 'text/plain',
          size: 6,
          sha256: createHash('sha256').update('second').digest('hex'),
        },
      ],
    });
    const history = fax?.history ?? [];
    expect(history.map((h) => h.status)).toEqual(['Queued', 'Sent', 'Delivered']);
    for (const h of history) expect(Number.isNaN(Date.parse(h.at))).toBe(false);
  });

  it('keeps purged faxes in /_sim/faxes (every accepted fax)', async () => {
    const id = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550182')).json()).id;
    await api(ctx.sim, ctx.token).del(`${STORE_PATH}/${id}?purge=true`);
    const [fax] = await simFaxes(ctx.sim);
    expect(fax).toMatchObject({ id, availability: 'Purged' });
  });

  it('POST /_sim/reset forgets faxes but keeps sessions unless asked', async () => {
    await sendFax(ctx.sim, ctx.token, '+16505550183');
    expect(await simFaxes(ctx.sim)).toHaveLength(1);
    expect((await fetch(`${ctx.sim.url}/_sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(await simFaxes(ctx.sim)).toHaveLength(0);
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(200);
    await fetch(`${ctx.sim.url}/_sim/reset?sessions=true`, { method: 'POST' });
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(401);
  });

  it('ids keep increasing across resets', async () => {
    const a = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550184')).json()).id;
    await fetch(`${ctx.sim.url}/_sim/reset`, { method: 'POST' });
    const b = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550184')).json()).id;
    expect(b).toBeGreaterThan(a);
  });

  it('unknown control paths are 404 in the RingCentral error shape', async () => {
    const r = await fetch(`${ctx.sim.url}/_sim/nope`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { errorCode: string }).errorCode).toBe('CMN-102');
  });
});
