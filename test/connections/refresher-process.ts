/**
 * A worker process as far as one connection goes, for the two-process refresh test: its own
 * database pool, token store and client pool. Prints "ready", waits for a line on stdin, then
 * makes CALLS calls at once and prints one JSON line with how they went.
 */
import { createInterface } from 'node:readline';
import { createConnectionPool } from '../../src/connections/connection-pool';
import { parseEncryptionKeys, TokenCipher } from '../../src/connections/token-cipher';
import { ConnectionTokenStore } from '../../src/connections/token-store';
import { connectPostgres } from '../../src/db/connection';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

async function run(): Promise<void> {
  const database = connectPostgres(env('DATABASE_URL'), { max: 4 });
  const tokens = new ConnectionTokenStore({
    db: database.db,
    cipher: new TokenCipher(parseEncryptionKeys(env('FAXFLOW_ENCRYPTION_KEY'))),
    appSecret: () => env('CLIENT_SECRET'),
  });
  const pool = createConnectionPool({
    db: database.db,
    tokens,
    budget: () => ({ limit: 10_000, windowMs: 1_000 }),
    maxSlotWaitMs: { Heavy: 0, Medium: 0, Light: 0 },
  });
  const client = await pool.forConnection(env('CONNECTION_ID'));
  console.log('ready');
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
  const results = await Promise.allSettled(
    Array.from({ length: Number(env('CALLS')) }, () =>
      client.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) }),
    ),
  );
  console.log(
    JSON.stringify({
      ok: results.filter((r) => r.status === 'fulfilled').length,
      errors: results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : [])),
    }),
  );
  await pool.close();
  await database.close();
}

run().catch((err: unknown) => {
  console.log(JSON.stringify({ ok: 0, errors: [String(err)] }));
  process.exitCode = 1;
});
