/** Shared by the connect route tests and the browser test: a fake registry and the app wired to a simulator. */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildApp } from '../../src/api/app';
import type { Database } from '../../src/db/schema';
import { createTenant } from '../../src/db/tenants';
import { createLogger } from '../../src/logger';
import type { ConnectionRegistry, NewConnection } from '../../src/ringcentral/connections';
import type { SimulatorHandle } from '../../src/simulator/index';
import { FakeFaxClient } from './helpers';

/** Keeps connections in memory; a reconnect of the same tenant + account + extension keeps its id. */
export class FakeRegistry implements ConnectionRegistry {
  readonly saved: NewConnection[] = [];
  private readonly ids = new Map<string, string>();
  failWith: Error | undefined;

  async saveConnection(input: NewConnection): Promise<{ id: string; reconnected: boolean }> {
    if (this.failWith) throw this.failWith;
    this.saved.push(input);
    const key = `${input.tenantId}|${input.accountId}|${input.extensionId}`;
    const existing = this.ids.get(key);
    if (existing !== undefined) return { id: existing, reconnected: true };
    const id = `conn-${randomUUID()}`;
    this.ids.set(key, id);
    return { id, reconnected: false };
  }
}

/** Every log line the app writes, as text. */
export class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString('utf8');
    cb();
  }
}

export interface ConnectAppOptions {
  db: Kysely<Database>;
  sim: SimulatorHandle;
  publicUrl: string;
  registry?: FakeRegistry;
  onConnected?: (id: string, reconnected: boolean) => Promise<void> | void;
  now?: () => Date;
  serverUrl?: string;
}

export async function connectApp(o: ConnectAppOptions): Promise<{
  app: FastifyInstance;
  registry: FakeRegistry;
  logs: LogCapture;
}> {
  const registry = o.registry ?? new FakeRegistry();
  const logs = new LogCapture();
  const app = await buildApp({
    db: o.db,
    faxClient: new FakeFaxClient(),
    onNotification: async () => undefined,
    logger: createLogger('trace', logs),
    connect: {
      registry,
      ringcentral: {
        serverUrl: o.serverUrl ?? o.sim.url,
        clientId: o.sim.credentials.clientId,
        clientSecret: o.sim.credentials.clientSecret,
      },
      publicUrl: o.publicUrl,
      secret: randomBytes(32),
      ...(o.onConnected && { onConnected: o.onConnected }),
      ...(o.now && { now: o.now }),
    },
  });
  return { app, registry, logs };
}

export async function newTenant(db: Kysely<Database>, name: string): Promise<string> {
  const id = `t-${randomUUID().slice(0, 8)}`;
  await createTenant(db, { id, name });
  return id;
}

/** The path and query of a URL, for `app.inject`. */
export const pathOf = (url: string): string => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/**
 * Runs the whole connect flow over HTTP, as a browser would, against a listening faxflow API and the
 * simulator: opens the link, lets the simulator auto-approve as `loginHint`'s user (extension id or
 * JWT), follows the redirect to the callback. Returns the result page. For integration tests that
 * must reconnect a tenant (e.g. after `/_sim/users/{ext}/revoke`).
 */
export async function completeConnectFlow(
  link: string,
  loginHint: string,
): Promise<{ status: number; body: string }> {
  const toAuthorize = await fetch(link, { redirect: 'manual' });
  if (toAuthorize.status !== 302) return { status: toAuthorize.status, body: await toAuthorize.text() };
  const authorize = new URL(toAuthorize.headers.get('location') ?? '');
  authorize.searchParams.set('login_hint', loginHint);
  const toCallback = await fetch(authorize, { redirect: 'manual' });
  if (toCallback.status !== 302)
    throw new Error(`authorize answered ${toCallback.status}: ${await toCallback.text()}`);
  const result = await fetch(toCallback.headers.get('location') ?? '', { redirect: 'manual' });
  return { status: result.status, body: await result.text() };
}
