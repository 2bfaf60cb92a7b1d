import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { testDatabase } from '../support/database';
import {
  createSubscription,
  makeApp,
  notificationFor,
  type NotificationRecorder,
  settle,
  WEBHOOK,
  type TestSubscription,
} from './helpers';

/**
 * Property: whatever arrives at the receiver (random or near-miss tokens under either header name,
 * real/other/deleted/unknown subscription ids, valid, mutated or random JSON, random bytes, random
 * content types, bodies around the size limit), it never answers 5xx, and it stores and hands on a
 * notification only if the request carried the exact token of the existing subscription it names.
 */

let database: DatabaseHandle;
let app: FastifyInstance;
let notifications: NotificationRecorder;
let real: TestSubscription;
let other: TestSubscription;
let deleted: TestSubscription;

beforeAll(async () => {
  database = testDatabase();
  ({ app, notifications } = await makeApp(database.db));
  real = await createSubscription(database.db);
  other = await createSubscription(database.db);
  deleted = await createSubscription(database.db, { status: 'Deleted' });
});
afterAll(async () => {
  await app.close();
  await database.close();
});

/** The full suite runs 10,000 cases (issue 13); FAXFLOW_FUZZ_RUNS changes it for a quick local run. */
const FUZZ_RUNS = Number(process.env.FAXFLOW_FUZZ_RUNS ?? 10_000);

const ascii = (maxLength: number) => fc.string({ unit: 'grapheme-ascii', maxLength });
const oneChar = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 });

/** Tokens: exact, missing, near misses of the real one, another subscription's, random. */
const tokenArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('EXACT') },
  { weight: 2, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.nat(),
        oneChar,
        fc.constantFrom('flip', 'append', 'drop', 'prefix', 'upper', 'space', 'truncate'),
      )
      .map(([i, c, op]) => `NEAR:${op}:${i}:${c}`),
  },
  { weight: 1, arbitrary: fc.constant('OTHER') },
  { weight: 1, arbitrary: ascii(48) },
);

function resolveToken(spec: string | undefined): string | undefined {
  if (spec === 'EXACT') return real.token;
  if (spec === 'OTHER') return other.token;
  if (spec === undefined || !spec.startsWith('NEAR:')) return spec;
  const [, op, idx, ...rest] = spec.split(':');
  const c = rest.join(':');
  const t = real.token;
  const i = Number(idx) % t.length;
  switch (op) {
    case 'flip': {
      const replacement = t[i] === c ? (c === 'a' ? 'b' : 'a') : c;
      return t.slice(0, i) + replacement + t.slice(i + 1);
    }
    case 'append':
      return t + c;
    case 'drop':
      return t.slice(0, -1);
    case 'prefix':
      return c + t;
    case 'upper':
      return t.toUpperCase() === t ? `${t}X` : t.toUpperCase();
    case 'space':
      return `${t} `;
    default:
      return t.slice(0, i);
  }
}

const subscriptionIdArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant('REAL') },
  { weight: 1, arbitrary: fc.constant('OTHER') },
  { weight: 1, arbitrary: fc.constant('DELETED') },
  { weight: 1, arbitrary: fc.constant('sub-unknown') },
  { weight: 1, arbitrary: ascii(40) },
);

function resolveSubscriptionId(spec: string): string {
  return spec === 'REAL' ? real.id : spec === 'OTHER' ? other.id : spec === 'DELETED' ? deleted.id : spec;
}

type BodySpec =
  | { kind: 'valid' }
  | { kind: 'mutated'; key: string; value: fc.JsonValue | undefined }
  | { kind: 'json'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'empty' }
  | { kind: 'padded'; size: number }
  | { kind: 'inner'; value: fc.JsonValue };

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'valid' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      key: fc.constantFrom(
        'uuid',
        'event',
        'timestamp',
        'subscriptionId',
        'ownerId',
        'body',
        '__proto__',
        'x',
      ),
      value: fc.option(fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), { nil: undefined }),
    }),
  },
  // 'binary' strings include NUL and lone surrogates, which Postgres jsonb refuses
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('inner' as const),
      value: fc.jsonValue({
        maxDepth: 4,
        stringUnit: fc.constantFrom('\u0000', '\ud800', 'a', 'é', '\\', '"'),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('inner' as const),
      value: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('json' as const), text: fc.json({ maxDepth: 3 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('padded' as const),
      size: fc.constantFrom(1_000, 60_000, 65_000, 65_536, 65_537, 80_000, 300_000),
    }),
  },
);

function renderBody(spec: BodySpec, subscriptionId: string): string | Buffer {
  const valid: Record<string, unknown> = notificationFor(subscriptionId);
  switch (spec.kind) {
    case 'valid':
      return JSON.stringify(valid);
    case 'mutated':
      if (spec.value === undefined) delete valid[spec.key];
      else valid[spec.key] = spec.value;
      return JSON.stringify(valid);
    case 'inner':
      return JSON.stringify({ ...valid, body: spec.value });
    case 'json':
      return spec.text;
    case 'bytes':
      return Buffer.from(spec.bytes);
    case 'empty':
      return '';
    case 'padded': {
      const base = JSON.stringify(valid);
      const filler = Math.max(0, spec.size - base.length - 20);
      return JSON.stringify({ ...valid, padding: 'p'.repeat(filler) });
    }
  }
}

const requestArb = fc.record({
  method: fc.oneof(
    { weight: 20, arbitrary: fc.constant('POST' as const) },
    fc.constantFrom('GET', 'PUT' as const),
  ),
  subscription: subscriptionIdArb,
  verification: tokenArb,
  validation: tokenArb,
  header: fc.constantFrom('verification', 'validation', 'both'),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | undefined>('application/json; charset=utf-8') },
    { weight: 3, arbitrary: fc.constant<string | undefined>('application/json') },
    { weight: 1, arbitrary: fc.constant<string | undefined>(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<string | undefined>(
        'APPLICATION/JSON',
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/json;;;',
        'application/jsonx',
      ),
    },
    { weight: 1, arbitrary: ascii(30) },
  ),
  body: bodyArb,
});

describe('webhook receiver fuzz', () => {
  it('never 5xx; stores and hands on only with the exact token of an existing subscription', async () => {
    const tokens = new Map([
      [real.id, real.token],
      [other.id, other.token],
    ]);
    let lastId =
      (await database.db
        .selectFrom('webhook_notifications')
        .select((eb) => eb.fn.max('id').as('max'))
        .executeTakeFirst()
        .then((r) => Number(r?.max ?? 0))) || 0;
    const stats = { runs: 0, stored: 0, handshakes: 0, byStatus: new Map<number, number>() };

    await fc.assert(
      fc.asyncProperty(requestArb, async (r) => {
        const subscriptionId = resolveSubscriptionId(r.subscription);
        const payload = renderBody(r.body, subscriptionId);
        const headers: Record<string, string> = {};
        if (r.contentType !== undefined) headers['content-type'] = r.contentType;
        const verification = resolveToken(r.verification);
        const validation = resolveToken(r.validation);
        if (r.header !== 'validation' && verification !== undefined)
          headers['verification-token'] = verification;
        if (r.header !== 'verification' && validation !== undefined) headers['validation-token'] = validation;

        const callsBefore = notifications.calls.length;
        const res = await app.inject({ method: r.method, url: WEBHOOK, headers, payload });
        await settle();

        stats.runs++;
        stats.byStatus.set(res.statusCode, (stats.byStatus.get(res.statusCode) ?? 0) + 1);
        expect(res.statusCode).toBeLessThan(500);
        expect(res.statusCode).toBeGreaterThanOrEqual(200);
        if (res.statusCode >= 400)
          expect((res.json() as { error: { code: string } }).error.code).toBeTruthy();

        const rows = await database.db
          .selectFrom('webhook_notifications')
          .select(['id', 'subscription_id'])
          .where('id', '>', lastId)
          .execute();
        const newCalls = notifications.calls.slice(callsBefore);

        // What the request actually carried, judged from its bytes and headers alone.
        const effectiveToken = headers['verification-token'] ?? headers['validation-token'];
        let namedId: unknown;
        try {
          namedId = (JSON.parse(Buffer.from(payload).toString('utf8')) as { subscriptionId?: unknown })
            ?.subscriptionId;
        } catch {
          namedId = undefined;
        }
        const authorized =
          r.method === 'POST' &&
          typeof namedId === 'string' &&
          tokens.has(namedId) &&
          effectiveToken !== undefined &&
          effectiveToken === tokens.get(namedId);

        if (!authorized) {
          expect(rows).toEqual([]);
          expect(newCalls).toEqual([]);
        } else {
          expect(rows.length).toBeLessThanOrEqual(1);
          expect(newCalls.length).toBe(rows.length);
        }
        for (const row of rows) {
          expect(row.subscription_id).toBe(namedId);
          expect(newCalls[0]?.notificationId).toBe(row.id);
          lastId = Math.max(lastId, row.id);
          stats.stored++;
        }
        if (res.statusCode === 200 && rows.length === 0) {
          // the only 200 that stores nothing is the handshake: empty body, token echoed
          expect(Buffer.from(payload).length).toBe(0);
          expect(res.headers['validation-token']).toBe(headers['validation-token']);
          stats.handshakes++;
        }
        if (rows.length === 1) expect(res.statusCode).toBe(200);

        // A clean request from RingCentral itself must get through.
        const clean =
          authorized &&
          (r.body.kind === 'valid' || (r.body.kind === 'padded' && r.body.size <= 60_000)) &&
          ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'].includes(
            r.contentType ?? '',
          );
        if (clean) {
          expect(res.statusCode).toBe(200);
          expect(rows).toHaveLength(1);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );

    // The generators did reach every branch that matters.
    expect(stats.stored).toBeGreaterThan(100);
    expect(stats.handshakes).toBeGreaterThan(5);
    for (const status of [200, 400, 401, 404, 405, 413, 415])
      expect(stats.byStatus.get(status) ?? 0).toBeGreaterThan(0);
  }, 600_000);
});
