import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildApp, type ApiDeps, type FaxApiClient, type StoredNotification } from '../../src/api/app';
import type { StartFaxRequest, StartedFax } from '../../src/client/fax-client';
import type { Database } from '../../src/db/schema';
import { markSubscriptionStatus, upsertSubscription } from '../../src/db/subscriptions';

/** Records every notification handed on; `next()` waits for the next one. */
export class NotificationRecorder {
  readonly calls: StoredNotification[] = [];
  private waiters: Array<(n: StoredNotification) => void> = [];

  readonly handler = async (n: StoredNotification): Promise<void> => {
    this.calls.push(n);
    this.waiters.shift()?.(n);
  };

  next(timeoutMs = 5_000): Promise<StoredNotification> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no notification was handed on')), timeoutMs);
      this.waiters.push((n) => {
        clearTimeout(timer);
        resolve(n);
      });
    });
  }
}

/** A fax client that records its calls and answers as told. */
export class FakeFaxClient implements FaxApiClient {
  readonly started: StartFaxRequest[] = [];
  startImpl: (r: StartFaxRequest) => Promise<StartedFax> = async (r) => ({
    jobId: r.idempotencyKey ?? 'generated-id',
    workflowId: `fax-${r.idempotencyKey ?? 'generated-id'}`,
    started: true,
  });
  jobs = new Map<string, Awaited<ReturnType<FaxApiClient['getFax']>>>();

  startFax = async (r: StartFaxRequest): Promise<StartedFax> => {
    this.started.push(r);
    return this.startImpl(r);
  };

  getFax: FaxApiClient['getFax'] = async (jobId) => this.jobs.get(jobId);
}

export interface TestSubscription {
  id: string;
  token: string;
  credentialKey: string;
}

export async function createSubscription(
  db: Kysely<Database>,
  opts: { status?: string; token?: string } = {},
): Promise<TestSubscription> {
  const sub = {
    id: `sub-${randomUUID()}`,
    token: opts.token ?? `tok-${randomUUID()}`,
    credentialKey: `cred-${randomUUID().slice(0, 8)}`,
  };
  await upsertSubscription(db, {
    id: sub.id,
    credentialKey: sub.credentialKey,
    verificationToken: sub.token,
    address: 'https://faxflow.example/webhooks/ringcentral',
    status: 'Active',
    expiresAt: new Date(Date.now() + 7 * 24 * 3600_000),
  });
  if (opts.status) await markSubscriptionStatus(db, sub.id, opts.status);
  return sub;
}

export function notificationFor(subscriptionId: string, overrides: Record<string, unknown> = {}) {
  return {
    uuid: randomUUID(),
    event: '/restapi/v1.0/account/1/extension/2/message-store',
    timestamp: new Date().toISOString(),
    subscriptionId,
    ownerId: '2',
    body: {
      accountId: 1,
      extensionId: 2,
      lastUpdated: new Date().toISOString(),
      changes: [{ type: 'Fax', newCount: 0, updatedCount: 1 }],
    },
    ...overrides,
  };
}

export async function rowsFor(db: Kysely<Database>, subscriptionId: string) {
  return db
    .selectFrom('webhook_notifications')
    .selectAll()
    .where('subscription_id', '=', subscriptionId)
    .orderBy('id')
    .execute();
}

/** Lets callbacks queued by the request path run before asserting that they did not. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function makeApp(db: Kysely<Database>, extra: Partial<ApiDeps> = {}) {
  const notifications = new NotificationRecorder();
  const faxClient = new FakeFaxClient();
  // The legacy routes' own tests run keyless (as the default tenant); production requires a key.
  const app: FastifyInstance = await buildApp(
    { db, faxClient, onNotification: notifications.handler, ...extra },
    { legacyAuth: 'optional' },
  );
  return { app, notifications, faxClient };
}

export const WEBHOOK = '/webhooks/ringcentral';
