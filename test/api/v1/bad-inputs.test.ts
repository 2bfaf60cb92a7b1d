import type http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/db/connection';
import { testDatabase } from '../../support/database';
import { makeSamplePdf } from '../../support/pdf-fixtures';
import { BAD_INPUT_CASES, type BadInputContext } from '../../fixtures/bad-inputs/cases';
import { auth, errorOf, makeV1App, storedFiles, tenantWithKey, type FakeV1FaxClient } from './helpers';
import { uploadUntilAnswered } from './upload-client';

let database: DatabaseHandle;
let app: FastifyInstance;
let faxClient: FakeV1FaxClient;
let documentsRoot: string;
let ctx: BadInputContext;
let tenantId: string;

beforeAll(async () => {
  database = testDatabase();
  ({ app, faxClient, documentsRoot } = await makeV1App(database.db));
  const t = await tenantWithKey(database.db, 'bad');
  tenantId = t.tenantId;
  ctx = { key: t.key, pdf: Buffer.from(await makeSamplePdf(1)) };
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** Everything a request could leave behind: rows of the tenant, files in the store, starts. */
async function footprint() {
  const count = async (table: 'api_fax_submissions' | 'idempotency_keys' | 'api_documents') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('tenant_id', '=', tenantId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    submissions: await count('api_fax_submissions'),
    idempotencyKeys: await count('idempotency_keys'),
    documents: await count('api_documents'),
    files: await storedFiles(documentsRoot),
    starts: faxClient.faxes.length + faxClient.broadcasts.length,
  };
}

describe('bad input through the real v1 routes', () => {
  it('has at least 30 cases', () => {
    expect(BAD_INPUT_CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(BAD_INPUT_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    if (c.before) {
      const first = await app.inject(c.before(ctx));
      expect(first.statusCode, first.body).toBeLessThan(300);
    }
    const before = await footprint();
    const res = await app.inject(c.request(ctx));
    expect(res.statusCode, res.body).toBe(c.status);
    const error = errorOf(res);
    expect(error.code).toBe(c.code);
    // One sentence for people: one line, ending with a full stop, short, no stack trace.
    expect(error.message).toMatch(/^\S[^\n]*\.$/);
    expect(error.message.length).toBeLessThan(400);
    expect(await footprint()).toEqual(before);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('uploads over 50 MB', () => {
  it('are cut off while streaming (413) without reading the rest; the client reads the answer; nothing is stored and the server stays up', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const url = new URL('/v1/faxes', address);
    const boundary = '----cutoff';
    const before = await footprint();
    // What the server answered, seen from its side.
    const answered: number[] = [];
    app.server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.on('finish', () => answered.push(res.statusCode));
    });
    // No Content-Length: chunked, so the limit can only be found while streaming. The client keeps
    // sending until the answer comes and must then be able to read it (the server lingers on the
    // rest of the body instead of resetting the connection).
    const answer = await uploadUntilAnswered(url, {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...auth(ctx.key) },
      head: Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+12025550123\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n%PDF-1.7\n`,
      ),
      chunk: Buffer.alloc(256 * 1024, 0x25),
      total: 200 * 1024 * 1024,
      tail: Buffer.from(`\r\n--${boundary}--\r\n`),
    });
    expect(answered).toEqual([413]);
    expect(answer.error, JSON.stringify(answer)).toBeUndefined();
    expect(answer.status).toBe(413);
    expect(answer.headers?.connection).toBe('close');
    expect(JSON.parse(answer.body ?? '')).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    // Answered at the limit, not after the whole 200 MB body (socket buffers hold a few MB beyond it).
    expect(answer.sentAtAnswer).toBeLessThan(100 * 1024 * 1024);
    expect(await footprint()).toEqual(before);
    const health = await fetch(new URL('/healthz', address));
    expect(health.status).toBe(200);
  });
});
