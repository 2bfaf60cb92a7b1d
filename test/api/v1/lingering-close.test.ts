import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/db/connection';
import { testDatabase } from '../../support/database';
import { auth, makeV1App, tenantWithKey } from './helpers';
import { RawClient, uploadUntilAnswered, type StreamedBody, type UploadOutcome } from './upload-client';

/**
 * An upload the API refuses while it is still arriving (over a limit, a bad key) must reach the
 * client as an answer it can read: the server answers, then keeps reading and dropping the rest of
 * the body for a bounded time (a lingering close, as nginx does) instead of closing a socket with
 * unread data in it, which makes the kernel send a reset that can wipe out the answer.
 */

const MiB = 1024 * 1024;
let database: DatabaseHandle;
/** Production bounds. */
let app: FastifyInstance;
let url: URL;
/** Small bounds, so that the tests of each bound take a second, not ten. */
let tight: FastifyInstance;
let tightPort: number;
// maxBytes is well above what the two sockets' buffers hold on loopback (up to ~10 MB) when the answer
// arrives: it is counted from the answer, and those bytes were sent before the client could know.
const TIGHT = { idleMs: 300, maxMs: 1500, maxBytes: 32 * MiB };
let key: string;

beforeAll(async () => {
  database = testDatabase();
  ({ app } = await makeV1App(database.db));
  ({ app: tight } = await makeV1App(database.db, {}, { lingeringClose: TIGHT }));
  trackSockets(app);
  trackSockets(tight);
  key = (await tenantWithKey(database.db, 'linger')).key;
  url = new URL('/v1/faxes', await app.listen({ host: '127.0.0.1', port: 0 }));
  tightPort = Number(new URL(await tight.listen({ host: '127.0.0.1', port: 0 })).port);
});
afterAll(async () => {
  await app.close();
  await tight.close();
  await database.close();
});

const boundary = '----linger';
/** A form whose one file is `total` bytes of `%` after a PDF header: over 50 MB, cut by the stager. */
function bigForm(total: number, headers: Record<string, string> = auth(key)): StreamedBody {
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...headers },
    head: Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+12025550123\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n%PDF-1.7\n`,
    ),
    chunk: Buffer.alloc(256 * 1024, 0x25),
    total,
    tail: Buffer.from(`\r\n--${boundary}--\r\n`),
  };
}

function expectAnswer(outcome: UploadOutcome, status: number, code: string): void {
  // The whole outcome in the message: on failure it shows the client's error instead of the answer.
  expect(outcome.error, JSON.stringify(outcome)).toBeUndefined();
  expect(outcome.status).toBe(status);
  expect(JSON.parse(outcome.body ?? '')).toMatchObject({ error: { code } });
  // Never kept alive: the rest of such a body is not worth reading to reuse the connection.
  expect(outcome.headers?.connection).toBe('close');
}

describe('an upload refused while it is still arriving reaches the client as an answer', () => {
  it('a 200 MB chunked multipart upload: 413 with its JSON error, every time', async () => {
    for (let i = 0; i < 3; i++) {
      const outcome = await uploadUntilAnswered(url, bigForm(200 * MiB));
      expectAnswer(outcome, 413, 'PAYLOAD_TOO_LARGE');
      // Answered at the limit (50 MB), not after the whole body; socket buffers hold some MB more.
      expect(outcome.sentAtAnswer).toBeLessThan(100 * MiB);
    }
  });

  it('a streamed JSON body over 10 MiB: 413', async () => {
    const outcome = await uploadUntilAnswered(url, {
      headers: { 'content-type': 'application/json', ...auth(key) },
      head: Buffer.from('{"to": "+12025550123", "documents": [{"filename": "a.pdf", "contentBase64": "'),
      chunk: Buffer.alloc(256 * 1024, 0x41),
      total: 100 * MiB,
      tail: Buffer.from('"}]}'),
    });
    expectAnswer(outcome, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('a multipart upload declaring 200 MB: 413 before its body is read', async () => {
    const body = bigForm(200 * MiB);
    const outcome = await uploadUntilAnswered(url, {
      ...body,
      headers: { ...body.headers, 'content-length': String(200 * MiB + 1024) },
    });
    expectAnswer(outcome, 413, 'PAYLOAD_TOO_LARGE');
    expect(outcome.sentAtAnswer).toBeLessThan(50 * MiB);
  });

  it('a small refused request whose body is all in keeps its connection alive', async () => {
    const outcome = await uploadUntilAnswered(url, {
      headers: { 'content-type': 'application/json', ...auth(`fxf_${'x'.repeat(43)}`) },
      chunk: Buffer.from('{"to": "+12025550123"}'),
      total: 22,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe(401);
    expect(outcome.headers?.connection).toBe('keep-alive');
  });

  it('a 200 MB upload with an unknown key: 401, and its body is not read to the end', async () => {
    const outcome = await uploadUntilAnswered(url, bigForm(200 * MiB, auth(`fxf_${'x'.repeat(43)}`)));
    expectAnswer(outcome, 401, 'INVALID_API_KEY');
  });
});

/** A JSON submission declaring `length` bytes: refused (413) from its Content-Length alone. */
function oversizeJsonHead(length: number): string {
  return [
    'POST /v1/faxes HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    `Authorization: Bearer ${key}`,
    `Content-Length: ${length}`,
    '',
    '',
  ].join('\r\n');
}

/**
 * When the server closed the socket of `client` (performance.now()). Seen from the server: the
 * client has had the server's FIN since the answer and cannot tell when the socket is gone.
 */
function serverClosed(server: FastifyInstance, client: RawClient): Promise<number> {
  const closed = serverSockets.get(server)?.get(client.localPort);
  if (!closed) throw new Error('no server socket for this client');
  return closed;
}
const serverSockets = new Map<FastifyInstance, Map<number, Promise<number>>>();
function trackSockets(server: FastifyInstance): void {
  const byPort = new Map<number, Promise<number>>();
  serverSockets.set(server, byPort);
  server.server.on('connection', (socket: Socket) => {
    byPort.set(
      socket.remotePort ?? -1,
      new Promise((resolve) => socket.once('close', () => resolve(performance.now()))),
    );
  });
}

describe('the lingering close after such an answer', () => {
  it('reads the rest of the body, then closes at once when the client has sent it', async () => {
    const length = 12 * MiB;
    const client = await RawClient.connect(Number(url.port), oversizeJsonHead(length));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    await client.writeUntilAnswered(chunk, length);
    const answer = await client.answer;
    expect(answer.status).toBe(413);
    expect(answer.headers['connection']).toBe('close');
    // The client sends the rest of its body and then waits, as a client that ignores early answers
    // does: the server reads it all (no reset) and closes as soon as the body is complete, well
    // before its idle bound (2 s).
    while (client.sent < length) {
      if (!(await client.write(chunk.subarray(0, Math.min(chunk.length, length - client.sent))))) break;
    }
    const finished = performance.now();
    const closedAt = await serverClosed(app, client);
    expect(client.error).toBeUndefined();
    expect(client.sent).toBe(length);
    // The server's FIN came with the answer: the client knows the connection is not kept.
    expect(client.ended).toBe(true);
    expect(closedAt - finished).toBeLessThan(1500);
    client.socket.destroy();
  });

  it('closes at once when the client closes after reading the answer', async () => {
    const client = await RawClient.connect(Number(url.port), oversizeJsonHead(200 * MiB));
    await client.writeUntilAnswered(Buffer.alloc(64 * 1024, 0x20), 200 * MiB);
    expect((await client.answer).status).toBe(413);
    const stopped = performance.now();
    client.end();
    expect((await serverClosed(app, client)) - stopped).toBeLessThan(1500);
    await client.closed;
    expect(client.error).toBeUndefined();
  });

  it('reads what a multipart upload sends while the answer travels (a round trip), without a reset', async () => {
    const head = [
      'POST /v1/faxes HTTP/1.1',
      'Host: 127.0.0.1',
      `Content-Type: multipart/form-data; boundary=${boundary}`,
      `Authorization: Bearer ${key}`,
      'Transfer-Encoding: chunked',
      '',
      '',
    ].join('\r\n');
    const client = await RawClient.connect(Number(url.port), head);
    const form = bigForm(0);
    const chunked = (data: Buffer): Buffer =>
      Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')]);
    await client.write(chunked(form.head ?? Buffer.alloc(0)));
    const chunk = chunked(form.chunk);
    await client.writeUntilAnswered(chunk, 200 * MiB);
    const answer = await client.answer;
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    // Over a real network the client goes on sending for a round trip before it sees the answer:
    // 100 ms or 16 MiB here (100 ms at 1 Gbit/s). Then it stops and closes.
    const until = performance.now() + 100;
    const atAnswer = client.sent;
    while (performance.now() < until && client.sent - atAnswer < 16 * MiB) {
      if (!(await client.write(chunk))) break;
    }
    client.end();
    await client.closed;
    expect(client.error).toBeUndefined();
    expect(client.sent - (client.sentAtAnswer ?? 0)).toBeGreaterThan(0);
  });

  it('closes a connection that goes quiet after the answer once it has been idle for the bound', async () => {
    const client = await RawClient.connect(tightPort, oversizeJsonHead(200 * MiB));
    await client.writeUntilAnswered(Buffer.alloc(64 * 1024, 0x20), 200 * MiB);
    expect((await client.answer).status).toBe(413);
    // Nothing more is sent, and the client does not close: the server waits for the idle bound.
    const lasted = (await serverClosed(tight, client)) - (client.answeredAtMs ?? 0);
    expect(lasted).toBeGreaterThanOrEqual(TIGHT.idleMs - 50);
    expect(lasted).toBeLessThan(TIGHT.maxMs);
    expect(client.error).toBeUndefined();
    client.socket.destroy();
  });

  it('cuts a client that keeps trickling bytes at the time bound', async () => {
    const client = await RawClient.connect(tightPort, oversizeJsonHead(200 * MiB));
    await client.writeUntilAnswered(Buffer.alloc(64 * 1024, 0x20), 200 * MiB);
    expect((await client.answer).status).toBe(413);
    // A slow loris: a few bytes every 50 ms never lets the idle bound pass.
    const trickle = Buffer.alloc(16, 0x20);
    let closedAt: number | undefined;
    void serverClosed(tight, client).then((t) => (closedAt = t));
    while (closedAt === undefined && (await client.write(trickle))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const lasted = (await serverClosed(tight, client)) - (client.answeredAtMs ?? 0);
    expect(lasted).toBeGreaterThan(TIGHT.maxMs - 100);
    expect(lasted).toBeLessThan(TIGHT.maxMs + 2000);
    client.socket.destroy();
  });

  it('cuts a client that sends on regardless at the byte bound, long before its 200 MB', async () => {
    const client = await RawClient.connect(tightPort, oversizeJsonHead(200 * MiB));
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    await client.writeUntilAnswered(chunk, 200 * MiB);
    expect((await client.answer).status).toBe(413);
    while (client.sent < 200 * MiB && (await client.write(chunk)));
    const lasted = (await serverClosed(tight, client)) - (client.answeredAtMs ?? 0);
    // 32 MiB drained, plus what the two sockets' buffers held when the server stopped reading.
    const afterAnswer = (client.sent - (client.sentAtAnswer ?? 0)) / MiB;
    expect(afterAnswer).toBeGreaterThan(TIGHT.maxBytes / MiB - 16);
    expect(afterAnswer).toBeLessThan(TIGHT.maxBytes / MiB + 32);
    expect(lasted).toBeLessThan(TIGHT.maxMs);
    client.socket.destroy();
  });
});
