/**
 * How fast does the webhook receiver answer, storing every notification before its 200?
 *
 *   npx tsx bench/webhook-receiver.ts [--requests 5000] [--concurrency 32]
 *
 * Uses DATABASE_URL if set (it must be migrated); otherwise creates a throw-away database on the local
 * PostgreSQL (postgres@127.0.0.1:5432, like the tests), migrates it and drops it at the end.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startApiServer } from '../src/api/server';
import { connectPostgres } from '../src/db/connection';
import { migrateToLatest } from '../src/db/migrate';
import { upsertSubscription } from '../src/db/subscriptions';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '5000' }, concurrency: { type: 'string', default: '32' } },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);

let dropDatabase: (() => Promise<void>) | undefined;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const adminUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `faxflow_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  databaseUrl = url.toString();
  dropDatabase = async () => {
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  };
}

const handle = connectPostgres(databaseUrl, { max: 10 });
try {
  if (dropDatabase) await migrateToLatest(handle.db);
  const subscriptionId = `bench-${randomUUID()}`;
  const token = randomUUID();
  await upsertSubscription(handle.db, {
    id: subscriptionId,
    credentialKey: 'bench',
    verificationToken: token,
    address: 'http://127.0.0.1/webhooks/ringcentral',
    status: 'Active',
    expiresAt: new Date(Date.now() + 3600_000),
  });
  let handedOn = 0;
  const server = await startApiServer(
    {
      db: handle.db,
      faxClient: {
        startFax: () => Promise.reject(new Error('not in this bench')),
        getFax: () => Promise.resolve(undefined),
      },
      onNotification: async () => {
        handedOn++;
      },
    },
    { host: '127.0.0.1', port: 0 },
  );
  await server.recovery;

  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const body = (i: number) =>
    JSON.stringify({
      uuid: randomUUID(),
      event: '/restapi/v1.0/account/1/extension/2/message-store',
      timestamp: new Date().toISOString(),
      subscriptionId,
      ownerId: '2',
      body: { accountId: 1, extensionId: 2, changes: [{ type: 'Fax', newCount: 0, updatedCount: 1, i }] },
    });
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const res = await fetch(`${server.url}/webhooks/ringcentral`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Verification-Token': token },
        body: body(i),
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) errors++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;

  const t0 = performance.now();
  const hs = await fetch(`${server.url}/webhooks/ringcentral`, {
    method: 'POST',
    headers: { 'Validation-Token': 'x' },
  });
  const handshakeMs = performance.now() - t0;

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  const stored = await handle.db
    .selectFrom('webhook_notifications')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirstOrThrow();
  console.log(
    JSON.stringify(
      {
        requests: total,
        concurrency,
        perSecond: Math.round(total / seconds),
        p50ms: +pct(0.5).toFixed(2),
        p99ms: +pct(0.99).toFixed(2),
        maxMs: +pct(1).toFixed(2),
        errors,
        stored: Number(stored.n),
        handedOn,
        handshake: { status: hs.status, ms: +handshakeMs.toFixed(2) },
      },
      null,
      2,
    ),
  );
  await server.close();
  await handle.db.deleteFrom('webhook_notifications').where('subscription_id', '=', subscriptionId).execute();
  await handle.db.deleteFrom('ringcentral_subscriptions').where('id', '=', subscriptionId).execute();
} finally {
  await handle.close();
  await dropDatabase?.();
}
