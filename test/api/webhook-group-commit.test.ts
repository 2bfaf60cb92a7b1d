import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Database } from '../../src/db/schema';
import {
  createSubscription,
  makeApp,
  notificationFor,
  type NotificationRecorder,
  rowsFor,
  WEBHOOK,
} from './helpers';

/** Statements sent to Postgres, by their text. */
let statements: string[] = [];
let db: Kysely<Database>;
let app: FastifyInstance;
let notifications: NotificationRecorder;

beforeAll(async () => {
  const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
      statements.push(text ?? '?');
      return query(...args);
    };
  });
  db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  ({ app, notifications } = await makeApp(db));
});
afterAll(async () => {
  await app.close();
  await db.destroy();
});

/**
 * Issue 13: notifications that arrive together are stored by one statement, and each is still
 * answered 200 only once it is stored, with the same answers as when stored one by one.
 */
describe('webhook notifications arriving together', () => {
  it('are stored by fewer statements than notifications, each before its 200, a redelivery once', async () => {
    const sub = await createSubscription(db);
    const headers = { 'content-type': 'application/json', 'verification-token': sub.token };
    const post = (payload: object) =>
      app.inject({ method: 'POST', url: WEBHOOK, headers, payload: JSON.stringify(payload) });
    // Stored earlier (and the subscription now known to the receiver).
    const earlier = notificationFor(sub.id);
    expect((await post(earlier)).statusCode).toBe(200);

    const fresh = Array.from({ length: 8 }, () => notificationFor(sub.id));
    statements = [];
    const answers = await Promise.all([...fresh, fresh[0]!, earlier].map((n) => post(n)));
    const inserts = statements.filter((s) => s.includes('insert into "webhook_notifications"'));

    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
    const bodies = answers.map((a) => JSON.parse(a.body) as { duplicate?: boolean });
    expect(bodies.slice(0, 8)).toEqual(Array(8).fill({ ok: true }));
    expect(bodies.slice(8)).toEqual([
      { ok: true, duplicate: true },
      { ok: true, duplicate: true },
    ]);
    const rows = await rowsFor(db, sub.id);
    expect(rows.map((r) => r.uuid)).toEqual(expect.arrayContaining([earlier, ...fresh].map((n) => n.uuid)));
    expect(rows).toHaveLength(9);
    // Every stored notification is handed on once, with its row's id.
    await expect.poll(() => notifications.calls.filter((c) => c.subscriptionId === sub.id).length).toBe(9);
    const handed = new Map(
      notifications.calls.map((c) => [(c.body as { uuid: string }).uuid, c.notificationId]),
    );
    for (const r of rows) expect(handed.get(r.uuid!)).toBe(Number(r.id));
    expect(inserts.length).toBeLessThan(fresh.length);
  });
});
