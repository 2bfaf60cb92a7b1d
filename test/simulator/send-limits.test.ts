import { describe, expect, it } from 'vitest';
import { ApiErrorBody, MessageRecord } from './schemas';
import {
  api,
  FAX_PATH,
  faxForm,
  getRecord,
  pdf,
  rawMultipart,
  sendFax,
  simFaxes,
  sleep,
  STORE_PATH,
  waitFor,
  type Doc,
  useSim,
} from './helpers';

const MB = 1024 * 1024;
const TO = [{ phoneNumber: '+16505550190' }];

describe('send validation and limits', () => {
  const ctx = useSim({ statusModel: 'delivery-reports', rateLimits: false, timeScale: 0.002 });

  // coverIndex 0 unless a test says otherwise, so page counts are the documents' own
  const post = (envelope: unknown, docs: Doc[]): Promise<Response> =>
    api(ctx.sim, ctx.token).post(
      FAX_PATH,
      faxForm(
        envelope !== null && typeof envelope === 'object' && !Array.isArray(envelope)
          ? { coverIndex: 0, ...envelope }
          : envelope,
        docs,
      ),
    );
  const expectError = async (
    r: Response,
    status: number,
    code: string,
    parameterName?: string,
  ): Promise<void> => {
    const body = ApiErrorBody.parse(await r.json());
    expect({ status: r.status, code: body.errorCode }).toEqual({ status, code });
    if (parameterName !== undefined) expect(body.errors[0]?.parameterName).toBe(parameterName);
  };
  const pdfBytes = (size: number): Uint8Array => {
    const b = new Uint8Array(size);
    b.set(Buffer.from('%PDF-1.4\n'));
    return b;
  };

  it('one attachment over 50 MB is MSG-337', async () => {
    await expectError(
      await post({ to: TO }, [{ filename: 'big.pdf', body: pdfBytes(50 * MB + 10) }]),
      400,
      'MSG-337',
    );
  });

  it('attachments over 50 MB together are MSG-338', async () => {
    await expectError(
      await post({ to: TO }, [
        { filename: 'a.pdf', body: pdfBytes(26 * MB) },
        { filename: 'b.pdf', body: pdfBytes(25 * MB) },
      ]),
      400,
      'MSG-338',
    );
  });

  it('a PDF of more than 200 pages fails rendering with TooManyPages', async () => {
    const r = await post({ to: TO }, [{ filename: 'long.pdf', body: await pdf(201) }]);
    const sent = MessageRecord.parse(await r.json());
    const rec = await waitFor(
      () => getRecord(ctx.sim, ctx.token, sent.id),
      (x) => x.messageStatus !== 'Queued',
    );
    expect(rec.messageStatus).toBe('SendingFailed');
    expect(rec.to[0]).toMatchObject({ messageStatus: 'SendingFailed', faxErrorCode: 'TooManyPages' });
  });

  it('a PDF of exactly 200 pages is fine', async () => {
    const sent = MessageRecord.parse(
      await (await post({ to: TO }, [{ filename: 'ok.pdf', body: await pdf(200) }])).json(),
    );
    const rec = await waitFor(
      () => getRecord(ctx.sim, ctx.token, sent.id),
      (x) => x.faxPageCount > 0,
    );
    expect(rec.faxPageCount).toBe(200);
    expect(rec.messageStatus).not.toBe('SendingFailed');
  });

  it.each(['a&b.pdf', 'me@home.pdf', 'no#1.pdf', 'cost$.pdf', '100%.pdf', 'x^y.pdf', 'star*.pdf'])(
    'a filename with a forbidden character (%s) is CMN-101',
    async (filename) => {
      await expectError(
        await post({ to: TO }, [{ filename, body: await pdf(1) }]),
        400,
        'CMN-101',
        'attachment',
      );
    },
  );

  it('unsupported types are 415 MSG-348, judged by content where it has a signature', async () => {
    // an executable named .pdf
    await expectError(
      await post({ to: TO }, [{ filename: 'x.pdf', body: Buffer.from('MZ\x90\x00binary') }]),
      415,
      'MSG-348',
    );
    // a zip that is not an Office document
    await expectError(
      await post({ to: TO }, [{ filename: 'x.zip', body: Buffer.from('PK\x03\x04rest') }]),
      415,
      'MSG-348',
    );
    // text under an unsupported extension
    await expectError(await post({ to: TO }, [{ filename: 'notes.md', body: '# notes' }]), 415, 'MSG-348');
    // a .pdf that is really plain text
    await expectError(await post({ to: TO }, [{ filename: 'fake.pdf', body: 'not a pdf' }]), 415, 'MSG-348');
  });

  it('supported types are recognised by content even when misnamed', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const r = await post({ to: TO }, [
      { filename: 'scan.dat', body: png },
      { filename: 'letter', body: await pdf(1) },
    ]);
    expect(r.status).toBe(200);
    const rec = MessageRecord.parse(await r.json());
    expect(rec.attachments.map((a) => a.contentType)).toEqual(['image/png', 'application/pdf']);
  });

  it('counts TIFF pages from the IFD chain', async () => {
    // little-endian TIFF with two IFDs of zero entries
    const tiff = Buffer.alloc(32);
    tiff.write('II*\0', 0, 'latin1');
    tiff.writeUInt32LE(8, 4);
    tiff.writeUInt16LE(0, 8);
    tiff.writeUInt32LE(14, 10);
    tiff.writeUInt16LE(0, 14);
    tiff.writeUInt32LE(0, 16);
    const sent = MessageRecord.parse(
      await (await post({ to: TO }, [{ filename: 'two.tif', body: tiff }])).json(),
    );
    expect(
      (
        await waitFor(
          () => getRecord(ctx.sim, ctx.token, sent.id),
          (x) => x.faxPageCount > 0,
        )
      ).faxPageCount,
    ).toBe(2);
  });

  it('an empty attachment is MSG-347', async () => {
    await expectError(
      await post({ to: TO }, [{ filename: 'empty.pdf', body: new Uint8Array(0) }]),
      400,
      'MSG-347',
    );
  });

  it('a file part without a filename is MSG-351, a part without Content-Disposition is MSG-350', async () => {
    const json = {
      headers: ['Content-Disposition: form-data; name="json"', 'Content-Type: application/json'],
      body: JSON.stringify({ to: TO }),
    };
    const noName = rawMultipart('bb', [
      json,
      {
        headers: ['Content-Disposition: form-data; name="attachment"', 'Content-Type: application/pdf'],
        body: '%PDF-1.4',
      },
    ]);
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, noName, {
        'Content-Type': 'multipart/form-data; boundary=bb',
      }),
      400,
      'MSG-351',
    );
    const noDisp = rawMultipart('bb', [
      json,
      { headers: ['Content-Type: application/pdf'], body: '%PDF-1.4' },
    ]);
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, noDisp, {
        'Content-Type': 'multipart/form-data; boundary=bb',
      }),
      400,
      'MSG-350',
    );
  });

  it('missing or invalid recipients are CMN-101', async () => {
    const doc: Doc[] = [{ filename: 'a.txt', body: 'x', contentType: 'text/plain' }];
    await expectError(await post({}, doc), 400, 'CMN-101', 'to');
    await expectError(await post({ to: [] }, doc), 400, 'CMN-101', 'to');
    await expectError(await post({ to: [{ phoneNumber: 'abc' }] }, doc), 400, 'CMN-101', 'to.phoneNumber');
    await expectError(await post({ to: [{ name: 'x' }] }, doc), 400, 'CMN-101', 'to.phoneNumber');
    await expectError(await post({ to: [{ phoneNumber: '+1' }] }, doc), 400, 'CMN-101', 'to.phoneNumber');
  });

  it('invalid parameters are CMN-101 with their parameterName', async () => {
    const doc: Doc[] = [{ filename: 'a.txt', body: 'x', contentType: 'text/plain' }];
    await expectError(await post({ to: TO, faxResolution: 'Ultra' }, doc), 400, 'CMN-101', 'faxResolution');
    await expectError(await post({ to: TO, coverIndex: 14 }, doc), 400, 'CMN-101', 'coverIndex');
    await expectError(
      await post({ to: TO, coverPageText: 'x'.repeat(1025) }, doc),
      400,
      'CMN-101',
      'coverPageText',
    );
    await expectError(await post({ to: TO, sendTime: 'tomorrow' }, doc), 400, 'CMN-101', 'sendTime');
    await expectError(await post({ to: TO, isoCode: 'USA' }, doc), 400, 'CMN-101', 'isoCode');
  });

  it('a cover page alone is a one-page fax; coverIndex 0 without attachments is refused', async () => {
    const r = await api(ctx.sim, ctx.token).postJson(FAX_PATH, { to: TO, coverPageText: 'only a cover' });
    const sent = MessageRecord.parse(await r.json());
    expect(sent.coverIndex).toBe(1);
    expect(
      (
        await waitFor(
          () => getRecord(ctx.sim, ctx.token, sent.id),
          (x) => x.faxPageCount > 0,
        )
      ).faxPageCount,
    ).toBe(1);
    await expectError(
      await api(ctx.sim, ctx.token).postJson(FAX_PATH, { to: TO, coverIndex: 0 }),
      400,
      'CMN-101',
      'attachment',
    );
  });

  it('a cover page adds one page', async () => {
    const sent = MessageRecord.parse(
      await (await post({ to: TO, coverIndex: 3 }, [{ filename: 'a.pdf', body: await pdf(2) }])).json(),
    );
    expect(
      (
        await waitFor(
          () => getRecord(ctx.sim, ctx.token, sent.id),
          (x) => x.faxPageCount > 0,
        )
      ).faxPageCount,
    ).toBe(3);
  });

  it('sendTime in the future holds the fax Queued until then (scaled)', async () => {
    // 300 simulated s at 0.002 = 600 ms of hold
    const sendTime = new Date(Date.now() + 300_000).toISOString();
    const sent = MessageRecord.parse(
      await (await post({ to: TO, sendTime }, [{ filename: 'a.pdf', body: await pdf(1) }])).json(),
    );
    await sleep(150);
    const held = await getRecord(ctx.sim, ctx.token, sent.id);
    expect(held.messageStatus).toBe('Queued');
    expect(held.faxPageCount).toBe(0);
    const done = await waitFor(
      () => getRecord(ctx.sim, ctx.token, sent.id),
      (x) => x.messageStatus === 'Delivered',
    );
    const [f] = await simFaxes(ctx.sim);
    const sentAt = Date.parse(f?.history.find((h) => h.status === 'Sent')?.at ?? '');
    expect(sentAt - Date.parse(sent.creationTime)).toBeGreaterThanOrEqual(600);
    expect(done.faxPageCount).toBe(1);
  });

  it('deleting a scheduled fax before its sendTime cancels it: it never transmits', async () => {
    const sendTime = new Date(Date.now() + 300_000).toISOString(); // 600 ms at 0.002
    const sent = MessageRecord.parse(
      await (await post({ to: TO, sendTime }, [{ filename: 'a.pdf', body: await pdf(1) }])).json(),
    );
    expect((await api(ctx.sim, ctx.token).del(`${STORE_PATH}/${sent.id}`)).status).toBe(204);
    await sleep(900);
    const [f] = await simFaxes(ctx.sim);
    expect(f?.cancelled).toBe(true);
    expect(f?.history.map((h) => h.status)).toEqual(['Queued', 'Cancelled', 'Deleted']);
    expect(f?.recipients[0]?.messageStatus).toBe('Queued');
  });

  it('deleting a fax that already transmits does not recall it', async () => {
    const sent = MessageRecord.parse(
      await (await post({ to: TO }, [{ filename: 'a.pdf', body: await pdf(1) }])).json(),
    );
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, sent.id),
      (x) => x.faxPageCount > 0,
    );
    await api(ctx.sim, ctx.token).del(`${STORE_PATH}/${sent.id}`);
    await waitFor(
      () => simFaxes(ctx.sim),
      (f) => f[0]?.messageStatus === 'Delivered',
    );
    const rec = await getRecord(ctx.sim, ctx.token, sent.id);
    expect(rec).toMatchObject({ availability: 'Deleted', messageStatus: 'Delivered' });
  });

  it('resend by {originalMessageId, to} after a failure creates a new fax with the same documents', async () => {
    const doc = await pdf(1);
    const failed = MessageRecord.parse(
      await (
        await post({ to: [{ phoneNumber: '+15550000003' }] }, [{ filename: 'a.pdf', body: doc }])
      ).json(),
    );
    await waitFor(
      () => getRecord(ctx.sim, ctx.token, failed.id),
      (x) => x.messageStatus === 'SendingFailed',
    );
    const r = await api(ctx.sim, ctx.token).postJson(FAX_PATH, {
      originalMessageId: String(failed.id),
      to: [{ phoneNumber: '+16505550191' }],
    });
    expect(r.status).toBe(200);
    const again = MessageRecord.parse(await r.json());
    expect(again.id).not.toBe(failed.id);
    expect(again.to.map((t) => t.phoneNumber)).toEqual(['+16505550191']);
    const faxes = await simFaxes(ctx.sim);
    const copy = faxes.find((f) => f.id === again.id);
    expect(copy?.resendOf).toBe(failed.id);
    expect(copy?.attachments[0]?.sha256).toBe(faxes.find((f) => f.id === failed.id)?.attachments[0]?.sha256);
  });

  it('resend of a fax that did not fail is 406 MSG-343; of an unknown id CMN-101', async () => {
    const ok = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550192')).json());
    await expectError(
      await api(ctx.sim, ctx.token).postJson(FAX_PATH, { originalMessageId: ok.id }),
      406,
      'MSG-343',
    );
    await expectError(
      await api(ctx.sim, ctx.token).postJson(FAX_PATH, { originalMessageId: '123' }),
      400,
      'CMN-101',
      'originalMessageId',
    );
  });
});
