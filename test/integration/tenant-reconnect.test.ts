import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiServer } from '../../src/api/server';
import { loadTokenCipher } from '../../src/connections/token-cipher';
import { openSecret } from '../../src/connections/connection-secret';
import { FaxStatusKey } from '../../src/contracts/search-attributes';
import { statusQuery } from '../../src/contracts/workflow-messages';
import type { FaxWorkflowResult } from '../../src/contracts/workflow-types';
import { issueConnectLink } from '../../src/db/connect-links';
import { findConnection } from '../../src/db/ringcentral-connections';
import { findFaxJob } from '../../src/db/fax-jobs';
import { createTenant } from '../../src/db/tenants';
import { startApi } from '../../src/stack/api-process';
import { freePort } from '../../src/stack/free-port';
import { completeConnectFlow } from '../api/connect-helpers';
import { uniqueJobId } from '../support/database';
import { makeSamplePdf } from '../support/pdf-fixtures';
import { FAST_POLICY, OUTCOME, startTestStack, type TestStack } from '../support/test-stack';

/**
 * Issue 11 end to end: two tenants on two simulator users, both connected through the real Auth
 * Code + PKCE connect flow of the production API process (`startApi`: the real registry, and an
 * onConnected that wakes the connection's waiting jobs). Tenant B's user is revoked: B's jobs wait
 * with `WaitingForConnection` while A's complete; B reconnects the same user through the flow and
 * its jobs complete. Then no token the simulator issued may appear in any workflow history of the
 * run, in a pg_dump of the database or in the logs.
 */

/** Every access and refresh token the simulator's token endpoint gave out during this file. */
const issuedTokens = new Set<string>();
const realFetch = globalThis.fetch;

const USERS = {
  a: { jwt: `jwt-a-${randomUUID()}`, name: 'Tenant A Sender' },
  b: { jwt: `jwt-b-${randomUUID()}`, name: 'Tenant B Sender' },
} as const;

let stack: TestStack;
let api: ApiServer;
let pdf: Uint8Array;
const tenantA = `ta-${randomUUID().slice(0, 8)}`;
const tenantB = `tb-${randomUUID().slice(0, 8)}`;
const extensionOf: Record<'a' | 'b', string> = { a: '', b: '' };
const connectionOf: Record<'a' | 'b', string> = { a: '', b: '' };
/** Every fax workflow this file started. */
const workflowIds: string[] = [];

beforeAll(async () => {
  // The RingCentral SDK takes `fetch` from the global object when a client is built: record what
  // the token endpoint answers (every grant: code, refresh, JWT), whoever asked for it.
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await realFetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (new URL(url).pathname === '/restapi/oauth/token' && res.ok) {
      const body = (await res.clone().json()) as { access_token?: string; refresh_token?: string };
      if (body.access_token) issuedTokens.add(body.access_token);
      if (body.refresh_token) issuedTokens.add(body.refresh_token);
    }
    return res;
  };
  stack = await startTestStack({
    simulator: {
      rateLimits: false,
      extraUsers: [USERS.a, USERS.b],
      // An authorization code lives 60 simulated seconds: at the stack's default scale (0.002)
      // that is 120 ms, which a loaded machine overran between authorize and callback.
      timeScale: 0.01,
    },
  });
  pdf = await makeSamplePdf(1);
  const { users } = (await (await realFetch(`${stack.simulator.url}/_sim/users`)).json()) as {
    users: { extensionId: string; name: string }[];
  };
  extensionOf.a = users.find((u) => u.name === USERS.a.name)!.extensionId;
  extensionOf.b = users.find((u) => u.name === USERS.b.name)!.extensionId;
  await createTenant(stack.db, { id: tenantA, name: 'Tenant A' });
  await createTenant(stack.db, { id: tenantB, name: 'Tenant B' });
  // The production API process, on its own port, with the stack's composition root's config.
  api = await startApi({
    config: stack.config,
    client: stack.client,
    db: stack.db,
    faxClient: stack.faxClient,
    logger: stack.logger,
    port: await freePort(),
  });
}, 120_000);

afterAll(async () => {
  globalThis.fetch = realFetch;
  await api?.close();
  await stack?.stop();
});

/** Runs the connect link flow for the tenant as its simulator user; returns the connection's id. */
async function connect(tenant: string, user: 'a' | 'b'): Promise<{ page: string; id: string }> {
  const link = await issueConnectLink(stack.db, tenant, api.url);
  const result = await completeConnectFlow(link, extensionOf[user]);
  expect(result.status, result.body).toBe(200);
  const rows = await stack.db
    .selectFrom('ringcentral_connections')
    .select(['id', 'extension_id', 'status'])
    .where('tenant_id', '=', tenant)
    .execute();
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ extension_id: extensionOf[user], status: 'active' });
  return { page: result.body, id: rows[0]!.id };
}

async function submit(user: 'a' | 'b', to: string) {
  const started = await stack.faxClient.startFax({
    to,
    tenantId: user === 'a' ? tenantA : tenantB,
    connectionId: connectionOf[user],
    idempotencyKey: uniqueJobId(user),
    documents: [{ bytes: pdf, filename: 'letter.pdf' }],
    policy: FAST_POLICY,
  });
  workflowIds.push(started.workflowId);
  return started;
}

async function resultOf(workflowId: string): Promise<FaxWorkflowResult> {
  return (await stack.client.workflow.getHandle(workflowId).result()) as FaxWorkflowResult;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The stack's log lines (JSON). */
function logLines(): Record<string, unknown>[] {
  return stack
    .logs()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every string and byte field of a history (payloads decoded as UTF-8), as one text. */
function textOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (Array.isArray(value)) for (const v of value) textOf(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) textOf(v, out);
  return out;
}

describe('a tenant whose RingCentral user is revoked, then reconnected through the connect link', () => {
  it("waits with WaitingForConnection, continues after the reconnect, and never touches another tenant's sends", async () => {
    const a = await connect(tenantA, 'a');
    const b = await connect(tenantB, 'b');
    connectionOf.a = a.id;
    connectionOf.b = b.id;
    expect(a.id).not.toBe(b.id);

    // B works before the revocation: its tokens are in use when they die.
    const before = await submit('b', '+12025557000');
    expect((await resultOf(before.workflowId)).status).toBe(OUTCOME.success);

    const revoked = await realFetch(`${stack.simulator.url}/_sim/users/${extensionOf.b}/revoke`, {
      method: 'POST',
    });
    expect(((await revoked.json()) as { revokedSessions: number }).revokedSessions).toBeGreaterThanOrEqual(1);

    const waiting = [await submit('b', '+12025557001'), await submit('b', '+12025557002')];
    const aJobs = [await submit('a', '+12025557101'), await submit('a', '+12025557102')];
    for (const w of waiting) {
      const handle = stack.client.workflow.getHandle(w.workflowId);
      await waitFor(`${w.workflowId} to wait for its connection`, async () => {
        return (await handle.query(statusQuery)).status === 'WaitingForConnection';
      });
      // The row follows the workflow (an activity records it).
      await waitFor(`${w.workflowId}'s row`, async () => {
        return (await findFaxJob(stack.db, w.workflowId))?.status === 'WaitingForConnection';
      });
      expect(await findFaxJob(stack.db, w.workflowId)).toMatchObject({
        status: 'WaitingForConnection',
        connection_id: b.id,
        completed_at: null,
      });
      await waitFor(`${w.workflowId}'s search attribute`, async () => {
        const attrs = (await handle.describe()).typedSearchAttributes;
        return attrs.get(FaxStatusKey) === 'WaitingForConnection';
      });
    }
    expect(await findConnection(stack.db, b.id)).toMatchObject({ status: 'needs-reconnect' });
    expect(await findConnection(stack.db, a.id)).toMatchObject({ status: 'active' });

    // A is not affected: its jobs complete while B waits.
    for (const j of aJobs) expect((await resultOf(j.workflowId)).status).toBe(OUTCOME.success);
    for (const w of waiting)
      expect((await stack.client.workflow.getHandle(w.workflowId).query(statusQuery)).status).toBe(
        'WaitingForConnection',
      );

    // B reconnects the same user through a new link: the same connection, active again, and the
    // API process tells its waiting jobs (onConnected → notifyConnectionRestored).
    const again = await connect(tenantB, 'b');
    expect(again.id).toBe(b.id);
    expect(await findConnection(stack.db, b.id)).toMatchObject({ status: 'active', status_reason: null });
    const results = await Promise.all(waiting.map((w) => resultOf(w.workflowId)));
    expect(results.map((r) => r.status)).toEqual([OUTCOME.success, OUTCOME.success]);
    // The API process told them (its onConnected), not their periodic check.
    expect(logLines().filter((l) => l.connectionId === b.id && l.told === 2)).toHaveLength(1);
    const timeline = (await stack.client.workflow.getHandle(waiting[0]!.workflowId).query(statusQuery))
      .timeline;
    expect(timeline.map((e) => e.status)).toContain('WaitingForConnection');

    // The simulator's own record: each fax went out once, from its tenant's extension.
    const expected: [string, 'a' | 'b'][] = [
      ['+12025557000', 'b'],
      ['+12025557001', 'b'],
      ['+12025557002', 'b'],
      ['+12025557101', 'a'],
      ['+12025557102', 'a'],
    ];
    for (const [to, user] of expected) {
      const faxes = await stack.simFaxes(to);
      expect(
        faxes.map((f) => f.extensionId),
        to,
      ).toEqual([extensionOf[user]]);
    }
  }, 120_000);

  it('keeps every token the simulator issued out of workflow histories, the database dump and the logs', async () => {
    expect(workflowIds).toHaveLength(5);
    // The capture is complete: the tokens the connections hold now are among those recorded.
    const cipher = await loadTokenCipher(stack.config);
    for (const id of [connectionOf.a, connectionOf.b, stack.defaultConnectionId]) {
      const row = await findConnection(stack.db, id);
      const secret = openSecret(cipher, row!);
      if (!secret.tokens) continue;
      expect(issuedTokens).toContain(secret.tokens.accessToken);
      expect(issuedTokens).toContain(secret.tokens.refreshToken);
    }
    // Code grants of A and B (twice), one refresh at least; the revoked pair among them.
    expect(issuedTokens.size).toBeGreaterThanOrEqual(6);

    // Every workflow of the stack's task queue: the faxes and anything they started.
    const ids = new Set<string>();
    for await (const w of stack.client.workflow.list({ query: `TaskQueue = "${stack.taskQueue}"` }))
      ids.add(w.workflowId);
    for (const id of workflowIds) expect(ids).toContain(id);
    const histories: string[] = [];
    for (const id of ids) {
      const history = await stack.client.workflow.getHandle(id).fetchHistory();
      expect(history.events?.length ?? 0).toBeGreaterThan(0);
      histories.push(textOf(history).join('\n'));
    }
    const historyText = histories.join('\n');
    // The histories hold what a job is: the check would see a token were one there.
    expect(historyText).toContain('+12025557001');

    const { stdout: dump } = await promisify(execFile)('pg_dump', ['--no-owner', inject('databaseUrl')], {
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(dump).toContain('ringcentral_connections');
    const logs = stack.logs();
    expect(logLines().some((l) => l.connectionId === connectionOf.b && l.told === 2)).toBe(true);

    for (const token of issuedTokens) {
      // Not even a piece of one: every 16 characters of it (the simulator's tokens have 33).
      expect(token.length).toBeGreaterThan(16);
      const pieces = Array.from({ length: token.length - 15 }, (_, i) => token.slice(i, i + 16));
      for (const piece of pieces) {
        expect(historyText.includes(piece), 'a workflow history holds a token').toBe(false);
        expect(dump.includes(piece), 'pg_dump holds a token').toBe(false);
        expect(logs.includes(piece), 'the logs hold a token').toBe(false);
      }
    }
  }, 120_000);
});
