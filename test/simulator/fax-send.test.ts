import { describe, expect, it } from 'vitest';
import { MessageRecord } from './schemas';
import {
  api,
  FAX_PATH,
  getRecord,
  pdf,
  rawMultipart,
  sendFax,
  simFaxes,
  STORE_PATH,
  waitFor,
  useSim,
} from './helpers';

describe('POST .../fax', () => {
  const ctx = useSim({ statusModel: 'delivery-reports', rateLimits: false });

  it('accepts multipart/form-data with a json part and returns the documented Queued record', async () => {
    const r = await sendFax(
      ctx.sim,
      ctx.token,
      '+16505550123',
      [{ filename: 'a.pdf', body: await pdf(2), contentType: 'application/pdf' }],
      {
        faxResolution: 'High',
        coverPageText: 'hello',
      },
    );
    expect(r.status).toBe(200);
    const rec = MessageRecord.parse(await r.json());
    expect(rec.messageStatus).toBe('Queued');
    expect(rec.faxPageCount).toBe(0);
    expect(rec.faxResolution).toBe('High');
    expect(rec.availability).toBe('Alive');
    expect(rec.to).toEqual([
      expect.objectContaining({ phoneNumber: '+16505550123', messageStatus: 'Queued' }),
    ]);
    expect(rec.attachments).toHaveLength(1);
    expect(rec.attachments[0]?.contentType).toBe('application/pdf');
    expect(rec.uri.endsWith(`/message-store/${rec.id}`)).toBe(true);
    expect(rec.coverPageText).toBe('hello');
  });

  it('accepts multipart/mixed with a JSON part without Content-Disposition', async () => {
    const body = rawMultipart('Boundary_mixed_123', [
      {
        headers: ['Content-Type: application/json'],
        body: JSON.stringify({ to: [{ phoneNumber: '+16505550124' }] }),
      },
      {
        headers: ['Content-Type: text/plain', 'Content-Disposition: attachment; filename="note.txt"'],
        body: 'text',
      },
    ]);
    const r = await api(ctx.sim, ctx.token).post(FAX_PATH, body, {
      'Content-Type': 'multipart/mixed; boundary=Boundary_mixed_123',
    });
    expect(r.status).toBe(200);
    const rec = MessageRecord.parse(await r.json());
    expect(rec.to[0]?.phoneNumber).toBe('+16505550124');
    const [f] = await simFaxes(ctx.sim);
    expect(f?.attachments[0]).toMatchObject({ filename: 'note.txt', size: 4 });
  });

  it('decodes base64 Content-Transfer-Encoding in multipart/mixed documents', async () => {
    const doc = await pdf(2);
    const b64 = Buffer.from(doc)
      .toString('base64')
      .replace(/(.{76})/g, '$1\r\n');
    const body = rawMultipart('Boundary_b64', [
      {
        headers: ['Content-Type: application/json'],
        body: JSON.stringify({ to: [{ phoneNumber: '+16505550134' }], coverIndex: 0 }),
      },
      {
        headers: [
          'Content-Type: application/pdf',
          'Content-Transfer-Encoding: base64',
          'Content-Disposition: attachment; filename="b.pdf"',
        ],
        body: b64,
      },
    ]);
    const r = await api(ctx.sim, ctx.token).post(FAX_PATH, body, {
      'Content-Type': 'multipart/mixed; boundary=Boundary_b64',
    });
    const rec = MessageRecord.parse(await r.json());
    const [f] = await simFaxes(ctx.sim);
    expect(f?.attachments[0]?.size).toBe(doc.length);
    expect(
      (
        await waitFor(
          () => getRecord(ctx.sim, ctx.token, rec.id),
          (x) => x.faxPageCount > 0,
        )
      ).faxPageCount,
    ).toBe(2);
  });

  it('accepts the flat-field form (to repeated, faxResolution) with file parts', async () => {
    const fd = new FormData();
    fd.append('to', '+16505550125');
    fd.append('to', '+16505550126');
    fd.append('faxResolution', 'Low');
    fd.append('coverIndex', '2');
    fd.append('attachment', new Blob(['abc'], { type: 'text/plain' }), 'x.txt');
    const r = await api(ctx.sim, ctx.token).post(FAX_PATH, fd);
    expect(r.status).toBe(200);
    const rec = MessageRecord.parse(await r.json());
    expect(rec.to.map((t) => t.phoneNumber)).toEqual(['+16505550125', '+16505550126']);
    expect(rec.coverIndex).toBe(2);
  });

  it('accepts numeric account and extension ids as well as ~', async () => {
    const first = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550127')).json());
    const m = /account\/(\d+)\/extension\/(\d+)\//.exec(first.uri);
    const path = `/restapi/v1.0/account/${m?.[1]}/extension/${m?.[2]}/fax`;
    const fd = new FormData();
    fd.append(
      'json',
      new Blob([JSON.stringify({ to: [{ phoneNumber: '+16505550128' }] })], { type: 'application/json' }),
      'request.json',
    );
    fd.append('attachment', new Blob(['x'], { type: 'text/plain' }), 'x.txt');
    expect((await api(ctx.sim, ctx.token).post(path, fd)).status).toBe(200);
    expect(
      (
        await api(ctx.sim, ctx.token).get(
          `/restapi/v1.0/account/${m?.[1]}/extension/${m?.[2]}/message-store/${first.id}`,
        )
      ).status,
    ).toBe(200);
    expect(
      (await api(ctx.sim, ctx.token).get(`/restapi/v1.0/account/1/extension/2/message-store/${first.id}`))
        .status,
    ).toBe(404);
  });

  it('moves Queued -> Sent -> Delivered, sets faxPageCount from the PDF and updates lastModifiedTime', async () => {
    const sent = MessageRecord.parse(
      await (
        await sendFax(ctx.sim, ctx.token, '+16505550129', [{ filename: 'three.pdf', body: await pdf(3) }])
      ).json(),
    );
    const done = await waitFor(
      () => getRecord(ctx.sim, ctx.token, sent.id),
      (r) => r.messageStatus === 'Delivered',
    );
    const rec = MessageRecord.parse(done);
    expect(rec.faxPageCount).toBe(3);
    expect(rec.to[0]?.messageStatus).toBe('Delivered');
    expect(Date.parse(rec.lastModifiedTime)).toBeGreaterThan(Date.parse(sent.lastModifiedTime));
    const [f] = await simFaxes(ctx.sim);
    expect(f?.history.map((h) => h.status)).toEqual(['Queued', 'Sent', 'Delivered']);
  });

  it('takes about one simulated minute per page', async () => {
    // timeScale 0.002: 1 page ~ 120 ms + render/confirm, 5 pages ~ 600 ms
    const one = MessageRecord.parse(
      await (
        await sendFax(ctx.sim, ctx.token, '+16505550130', [{ filename: 'a.pdf', body: await pdf(1) }])
      ).json(),
    );
    const five = MessageRecord.parse(
      await (
        await sendFax(ctx.sim, ctx.token, '+16505550131', [{ filename: 'b.pdf', body: await pdf(5) }])
      ).json(),
    );
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, five.id),
      (r) => r.messageStatus === 'Delivered',
    );
    const faxes = await simFaxes(ctx.sim);
    const sentAt = (id: number): number => {
      const f = faxes.find((x) => x.id === id);
      const created = Date.parse(f?.createdAt ?? '');
      return Date.parse(f?.history.find((h) => h.status === 'Sent')?.at ?? '') - created;
    };
    expect(sentAt(one.id)).toBeGreaterThanOrEqual(120);
    expect(sentAt(five.id)).toBeGreaterThanOrEqual(600);
    expect(sentAt(five.id)).toBeGreaterThan(sentAt(one.id) + 300);
  });

  it('counts non-PDF documents as one page each', async () => {
    const sent = MessageRecord.parse(
      await (
        await sendFax(ctx.sim, ctx.token, '+16505550132', [
          { filename: 'a.txt', body: 'one', contentType: 'text/plain' },
          { filename: 'b.pdf', body: await pdf(2) },
        ])
      ).json(),
    );
    const rec = await waitFor(
      () => getRecord(ctx.sim, ctx.token, sent.id),
      (r) => r.faxPageCount > 0,
    );
    expect(rec.faxPageCount).toBe(3);
  });

  it('lists the fax right away in the message store', async () => {
    const sent = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550133')).json());
    const list = (await (
      await api(ctx.sim, ctx.token).get(`${STORE_PATH}?messageType=Fax&direction=Outbound`)
    ).json()) as {
      records: Array<{ id: number }>;
    };
    expect(list.records.map((r) => r.id)).toContain(sent.id);
  });
});
