import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TokenCipher } from '../../src/connections/token-cipher';
import type { DatabaseHandle } from '../../src/db/connection';
import { createTenant } from '../../src/db/tenants';
import { readWebhookSecrets } from '../../src/db/webhook-endpoint-secrets';
import {
  webhookEndpointRoutes,
  type V1WebhookEndpointWithSecret,
} from '../../src/events/webhook-endpoints-routes';
import { testDatabase } from '../support/database';

let database: DatabaseHandle;
let tenantA: string;
let tenantB: string;
beforeAll(async () => {
  database = testDatabase();
  tenantA = `a-${randomUUID().slice(0, 8)}`;
  tenantB = `b-${randomUUID().slice(0, 8)}`;
  await createTenant(database.db, { id: tenantA, name: 'A' });
  await createTenant(database.db, { id: tenantB, name: 'B' });
});
afterAll(async () => {
  await database?.close();
});

/** The plugin behind a fake auth hook: `x-test-tenant` names the tenant, none means no auth ran. */
async function app(): Promise<FastifyInstance> {
  const a = Fastify();
  a.addHook('onRequest', async (request) => {
    const t = request.headers['x-test-tenant'];
    if (typeof t === 'string') (request as unknown as { tenant: unknown }).tenant = { id: t, apiKeyId: 'k' };
  });
  await a.register(webhookEndpointRoutes, {
    db: database.db,
    cipher,
    maxEndpointsPerTenant: 3,
    prefix: '/v1',
  });
  return a;
}

const cipher = new TokenCipher([{ id: 'k1', key: randomBytes(32) }]);

/** Every 16-character piece of `secret`: not even part of one may be stored. */
const piecesOf = (secret: string) =>
  Array.from({ length: secret.length - 15 }, (_, i) => secret.slice(i, i + 16));

describe('/v1/webhook-endpoints', () => {
  const good = { url: 'https://hooks.example.com/faxflow', events: ['fax.delivered'] };
  const cases: [string, unknown, RegExp][] = [
    ['no url', { events: ['fax.sent'] }, /url/],
    ['url not a string', { url: 7, events: ['fax.sent'] }, /url/],
    ['relative url', { url: '/hooks', events: ['fax.sent'] }, /absolute URL/],
    ['plain http to a remote host', { url: 'http://hooks.example.com/x', events: ['fax.sent'] }, /https/],
    ['ftp', { url: 'ftp://hooks.example.com/x', events: ['fax.sent'] }, /https/],
    [
      'credentials in the url',
      { url: 'https://u:p@hooks.example.com/x', events: ['fax.sent'] },
      /credentials/,
    ],
    ['url too long', { url: `https://h.example.com/${'x'.repeat(2100)}`, events: ['fax.sent'] }, /2048/],
    ['no events', { url: good.url }, /events/],
    ['empty events', { url: good.url, events: [] }, /at least one/],
    ['unknown event', { url: good.url, events: ['fax.exploded'] }, /events\.0/],
    ['event twice', { url: good.url, events: ['fax.sent', 'fax.sent'] }, /twice/],
    ['unknown field', { ...good, secret: 'mine' }, /secret|Unrecognized/i],
    ['description too long', { ...good, description: 'd'.repeat(201) }, /description/],
    ['not an object', ['x'], /object|expected/i],
  ];
  it.each(cases)(
    'rejects %s with 400 VALIDATION_FAILED and stores nothing',
    async (_name, payload, message) => {
      const a = await app();
      const before = await a.inject({ url: '/v1/webhook-endpoints', headers: { 'x-test-tenant': tenantB } });
      const res = await a.inject({
        method: 'POST',
        url: '/v1/webhook-endpoints',
        headers: { 'x-test-tenant': tenantB },
        payload: payload as object,
      });
      expect(res.statusCode, res.body).toBe(400);
      const body = res.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.message).toMatch(message);
      const after = await a.inject({ url: '/v1/webhook-endpoints', headers: { 'x-test-tenant': tenantB } });
      expect(after.json()).toEqual(before.json());
    },
  );

  it('shows the secret once, isolates tenants and caps the count', async () => {
    const a = await app();
    const h = { 'x-test-tenant': tenantA };
    const created = await a.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: h,
      payload: good,
    });
    expect(created.statusCode).toBe(201);
    const ep = created.json<V1WebhookEndpointWithSecret>();
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const listed = await a.inject({ url: '/v1/webhook-endpoints', headers: h });
    expect(listed.json().data).toHaveLength(1);
    expect(listed.body).not.toContain(ep.secret);
    expect((await a.inject({ url: `/v1/webhook-endpoints/${ep.id}`, headers: h })).body).not.toContain(
      'whsec_',
    );

    // Another tenant: 404 on every route, exactly like an id that does not exist.
    const other = { 'x-test-tenant': tenantB };
    for (const [method, url] of [
      ['GET', `/v1/webhook-endpoints/${ep.id}`],
      ['DELETE', `/v1/webhook-endpoints/${ep.id}`],
      ['POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`],
      ['GET', `/v1/webhook-endpoints/${ep.id}/deliveries`],
      ['GET', `/v1/webhook-endpoints/we_${'0'.repeat(24)}`],
      ['GET', `/v1/webhook-endpoints/nonsense`],
    ] as const) {
      const res = await a.inject({ method, url, headers: other });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('WEBHOOK_ENDPOINT_NOT_FOUND');
    }
    expect((await a.inject({ url: '/v1/webhook-endpoints' })).statusCode).toBe(401);

    for (let i = 0; i < 2; i++) {
      expect(
        (await a.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: h, payload: good }))
          .statusCode,
      ).toBe(201);
    }
    const over = await a.inject({ method: 'POST', url: '/v1/webhook-endpoints', headers: h, payload: good });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.code).toBe('WEBHOOK_ENDPOINT_LIMIT');

    expect(
      (await a.inject({ method: 'DELETE', url: `/v1/webhook-endpoints/${ep.id}`, headers: h })).statusCode,
    ).toBe(204);
    expect((await a.inject({ url: `/v1/webhook-endpoints/${ep.id}`, headers: h })).statusCode).toBe(404);
    expect((await a.inject({ url: '/v1/webhook-endpoints', headers: h })).json().data).toHaveLength(2);
  });

  it('keeps signing secrets out of the table and a pg_dump of it, at creation and after rotation', async () => {
    const a = await app();
    const tenant = `r-${randomUUID().slice(0, 8)}`;
    await createTenant(database.db, { id: tenant, name: 'R' });
    const h = { 'x-test-tenant': tenant };
    const created = await a.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: h,
      payload: { url: 'https://hooks.example.com/at-rest', events: ['fax.failed'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const ep = created.json<V1WebhookEndpointWithSecret>();
    const rotated = await a.inject({
      method: 'POST',
      url: `/v1/webhook-endpoints/${ep.id}/rotate-secret`,
      headers: h,
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const next = rotated.json<V1WebhookEndpointWithSecret>();
    expect(next.secret).toMatch(/^whsec_/);
    expect(next.secret).not.toBe(ep.secret);
    // Shown at creation and rotation only.
    for (const url of [`/v1/webhook-endpoints/${ep.id}`, '/v1/webhook-endpoints']) {
      const body = (await a.inject({ url, headers: h })).body;
      expect(body).not.toContain('whsec_');
    }

    // The row as Postgres holds it, every column as text.
    const { rows } = await sql<{
      row: string;
    }>`select to_jsonb(w)::text as row from webhook_endpoints w where id = ${ep.id}`.execute(database.db);
    expect(rows).toHaveLength(1);
    const row = rows[0]!.row;
    expect(row).toContain(ep.id);
    const { stdout: dump } = await promisify(execFile)(
      'pg_dump',
      ['--data-only', '--table=webhook_endpoints', inject('databaseUrl')],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(dump).toContain(ep.id);
    for (const secret of [ep.secret, next.secret]) {
      expect(row).not.toContain(secret.slice('whsec_'.length));
      for (const piece of piecesOf(secret)) {
        expect(row.includes(piece), 'the row holds a piece of a secret').toBe(false);
        expect(dump.includes(piece), 'pg_dump holds a piece of a secret').toBe(false);
      }
    }
    // What is stored opens, with the key, to what was shown: the new secret and the one it replaced.
    const stored = await database.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', ep.id)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ secret: null, previous_secret: null, secret_key_id: 'k1' });
    expect((await readWebhookSecrets(database.db, cipher, stored)).secrets).toEqual({
      current: next.secret,
      previous: ep.secret,
    });
  });
});
