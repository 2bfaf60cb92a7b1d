import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSecret } from '../../src/connections/connection-secret';
import { findConnection } from '../../src/db/ringcentral-connections';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { REPO, TSX_CLI } from '../entrypoints/cli-process';
import {
  cipher,
  jwtConnectionWithoutTokens,
  newTenant,
  simStats,
  startProcess,
  testKey,
  type FakeProcess,
} from './helpers';

/**
 * Two worker processes, one connection, and an access token that dies at RingCentral while
 * Postgres still calls it valid (the simulator's clock runs 500 times faster): both get 401,
 * exactly one refresh reaches RingCentral, every call succeeds.
 */
const USER_JWT = `jwt-two-${randomBytes(6).toString('hex')}`;
const CALLS = 5;
let sim: SimulatorHandle;
let parent: FakeProcess;

beforeAll(async () => {
  // Access tokens live 3600 simulated seconds = 7.2 s.
  sim = await startSimulator({ extraUsers: [{ jwt: USER_JWT }], rateLimits: false, timeScale: 0.002 });
  parent = startProcess(sim);
});
afterAll(async () => {
  await parent?.close();
  await sim?.close();
});

interface Child {
  ready: Promise<void>;
  result: Promise<{ ok: number; errors: string[] }>;
  go(): void;
}

function startChild(connectionId: string): Child {
  const child = spawn(process.execPath, [TSX_CLI, path.join(REPO, 'test/connections/refresher-process.ts')], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      FAXFLOW_ENCRYPTION_KEY: `${testKey.id}:${testKey.key.toString('base64')}`,
      CLIENT_SECRET: sim.credentials.clientSecret,
      CONNECTION_ID: connectionId,
      CALLS: String(CALLS),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  let markReady: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<{ ok: number; errors: string[] }>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') markReady();
      else if (line.startsWith('{')) resolve(JSON.parse(line) as { ok: number; errors: string[] });
    });
    child.once('exit', (code) => reject(new Error(`refresher process exited with ${code} before answering`)));
  });
  return { ready, result, go: () => child.stdin.end('go\n') };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('two worker processes and an access token that expires', () => {
  it('make exactly one refresh between them; every call succeeds; no 401 is retried in a loop', async () => {
    const tenant = await newTenant(parent.database);
    const id = await jwtConnectionWithoutTokens(parent.database, sim, tenant, USER_JWT);
    const first = await parent.pool.forConnection(id);
    await first.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) });
    const v1 = (await findConnection(parent.database.db, id))!;
    const stored = openSecret(cipher, v1).tokens!;
    // Postgres still says it lives for an hour; RingCentral (the simulator) ends it in seconds.
    expect(v1.access_token_expires_at!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    await waitUntil(async () => {
      const res = await fetch(`${sim.url}/restapi/v1.0/account/~/extension/~`, {
        headers: { authorization: `Bearer ${stored.accessToken}` },
      });
      return res.status === 401;
    }, 30_000);

    const children = [startChild(id), startChild(id)];
    await Promise.all(children.map((c) => c.ready));
    const before = await simStats(sim);
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.result));
    const after = await simStats(sim);

    for (const r of results) expect(r).toEqual({ ok: CALLS, errors: [] });
    const delta = (k: string) => (after.callsByEndpoint[k] ?? 0) - (before.callsByEndpoint[k] ?? 0);
    expect(delta('POST /restapi/oauth/token')).toBe(1);
    // Each call met at most one 401 (the dead token), then used the renewed one.
    const unauthorized = (after.statusCodes['401'] ?? 0) - (before.statusCodes['401'] ?? 0);
    expect(unauthorized).toBeGreaterThanOrEqual(1);
    expect(unauthorized).toBeLessThanOrEqual(2 * CALLS);
    expect(delta('GET /restapi/v1.0/account/~/extension/~/message-store')).toBe(2 * CALLS + unauthorized);
    const v2 = (await findConnection(parent.database.db, id))!;
    expect(v2.token_version).toBe(v1.token_version + 1);
    expect(openSecret(cipher, v2).tokens!.refreshToken).not.toBe(stored.refreshToken);
  });
});
