import { describe, expect, it } from 'vitest';
import { ApiErrorBody } from './schemas';
import { api, FAX_PATH, faxForm, rawMultipart, useSim } from './helpers';

describe('error shapes and robustness', () => {
  const ctx = useSim({ rateLimits: false });

  const expectError = async (r: Response, status: number, code: string): Promise<void> => {
    expect(r.status).toBe(status);
    const body = ApiErrorBody.parse(await r.json());
    expect(body.errorCode).toBe(code);
    expect(body.errors[0]?.errorCode).toBe(code);
  };

  it('unknown paths are 404 CMN-102', async () => {
    await expectError(await api(ctx.sim, ctx.token).get('/restapi/v1.0/nope'), 404, 'CMN-102');
    await expectError(await fetch(`${ctx.sim.url}/`), 404, 'CMN-102');
  });

  it('wrong methods are 405 CMN-202 in the same shape with an Allow header (CMN-405 means "login required")', async () => {
    const r = await api(ctx.sim, ctx.token).get(FAX_PATH);
    expect(r.headers.get('allow')).toContain('POST');
    await expectError(r, 405, 'CMN-202');
  });

  it('malformed multipart is 400 MSG-349', async () => {
    const body = rawMultipart(
      'b1',
      [{ headers: ['Content-Type: application/json'], body: '{"to":[{"phoneNumber":"+16505550100"}]}' }],
      false,
    );
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, body, {
        'Content-Type': 'multipart/form-data; boundary=b1',
      }),
      400,
      'MSG-349',
    );
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, 'garbage', {
        'Content-Type': 'multipart/form-data; boundary=zz',
      }),
      400,
      'MSG-349',
    );
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, 'garbage', { 'Content-Type': 'multipart/form-data' }),
      400,
      'MSG-349',
    );
    // no Content-Type at all (a byte body gets none from fetch)
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, new Uint8Array([1, 2, 3])),
      400,
      'MSG-349',
    );
  });

  it('a request body that is neither multipart nor JSON is 415 MSG-348', async () => {
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, 'plain text', { 'Content-Type': 'text/plain' }),
      415,
      'MSG-348',
    );
  });

  it('bad JSON in the envelope is 400 CMN-103', async () => {
    const fd = new FormData();
    fd.append('json', new Blob(['{"to": ['], { type: 'application/json' }), 'request.json');
    fd.append('attachment', new Blob(['x'], { type: 'text/plain' }), 'x.txt');
    await expectError(await api(ctx.sim, ctx.token).post(FAX_PATH, fd), 400, 'CMN-103');
    await expectError(
      await api(ctx.sim, ctx.token).post(FAX_PATH, '{oops', { 'Content-Type': 'application/json' }),
      400,
      'CMN-103',
    );
  });

  it('a body over the 50 MB cap is answered MSG-338 and the server keeps working', async () => {
    const big = new Uint8Array(52 * 1024 * 1024);
    big.set(Buffer.from('%PDF-1.4\n'));
    const r = await api(ctx.sim, ctx.token).post(
      FAX_PATH,
      faxForm({ to: [{ phoneNumber: '+16505550100' }] }, [{ filename: 'big.pdf', body: big }]),
    );
    await expectError(r, 400, 'MSG-338');
    expect(
      (await api(ctx.sim, ctx.token).get('/restapi/v1.0/account/~/extension/~/message-store')).status,
    ).toBe(200);
  });

  it('never hangs on a connection that dies mid-body', async () => {
    const net = await import('node:net');
    const port = new URL(ctx.sim.url).port;
    await new Promise<void>((resolve) => {
      const s = net.connect(Number(port), '127.0.0.1', () => {
        s.write(
          `POST ${FAX_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ctx.token}\r\nContent-Type: multipart/form-data; boundary=q\r\nContent-Length: 100000\r\n\r\n--q\r\n`,
        );
        s.destroy();
        resolve();
      });
    });
    expect(
      (await api(ctx.sim, ctx.token).get('/restapi/v1.0/account/~/extension/~/message-store')).status,
    ).toBe(200);
  });

  it('answers garbage HTTP with 400 and stays up', async () => {
    const net = await import('node:net');
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(Number(new URL(ctx.sim.url).port), '127.0.0.1', () =>
        s.write('NOT HTTP AT ALL\r\n\r\n'),
      );
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(
      (await api(ctx.sim, ctx.token).get('/restapi/v1.0/account/~/extension/~/message-store')).status,
    ).toBe(200);
  });
});
