import type { Client } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { V1Broadcast, V1EventEnvelope, V1EventType } from '../contracts/v1-api';
import {
  DEFAULT_WEBHOOK_RETRY_POLICY,
  webhookDeliveryWorkflowId,
  webhookEventSignal,
  type WebhookDeliveryInput,
  type WebhookRetryPolicy,
} from '../contracts/webhook-delivery';
import { findJobSubmission, listJobAttempts } from '../db/event-job-reads';
import type { Database, Db, WebhookEventRow } from '../db/schema';
import { listListeningEndpoints } from '../db/webhook-endpoints';
import { listUndispatchedEvents, markEventDispatched, sealEventBody } from '../db/webhook-events';
import { toV1Fax, type JobSnapshot } from './fax-view';

/**
 * Signed event webhooks to upstream, end to end:
 *
 * 1. Producing (transactional outbox): `updateFaxJobStatus` (db/fax-jobs.ts), the single write path
 *    of a job's status, writes a `webhook_events` row in the same transaction when the change maps
 *    to an event and the tenant has an endpoint listening (db/webhook-events.ts). The row holds the
 *    job as written and a per-job sequence.
 * 2. Dispatching (this file, in every worker process): one leader at a time (a session advisory
 *    lock) reads undispatched rows in id order, seals each event's body once (the envelope with the
 *    job as `GET /v1/faxes/:id` shows it, committed before anyone is signalled), signals-with-start
 *    one `WebhookDeliveryWorkflow` per (endpoint, job) under a deterministic id, then marks the row
 *    dispatched. A crash in between re-signals the same row; the workflow drops repeats.
 * 3. Delivering (workflows/webhook-delivery-workflow.ts, activities/deliver-webhook.ts): one event
 *    after the other per job and endpoint, retried over hours, every attempt logged; the endpoint is
 *    disabled after a day without success.
 */
export interface WebhookDispatcherOptions {
  db: Kysely<Database>;
  client: Client;
  /** The main task queue (the delivery workflows and their activity run there). */
  taskQueue: string;
  logger: Logger;
  policy?: Partial<WebhookRetryPolicy>;
  /** How often the outbox is read. Default 1 s. */
  intervalMs?: number;
  batchSize?: number;
}

export interface WebhookDispatcher {
  /** One pass now (tests, and the loop); returns how many events it dispatched. */
  dispatchOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Any int8 that no other advisory lock of ours uses: "fxwh" as bytes. */
const DISPATCH_LOCK_KEY = 0x66787768;

export function startWebhookDispatcher(opts: WebhookDispatcherOptions): WebhookDispatcher {
  const policy: WebhookRetryPolicy = { ...DEFAULT_WEBHOOK_RETRY_POLICY, ...opts.policy };
  const batchSize = opts.batchSize ?? 100;
  let stopped = false;
  let running: Promise<number> | undefined;

  // One connection for the whole pass, holding a session advisory lock: one leader at a time across
  // every worker, released when the pass ends (or the connection drops with a dead process). Each
  // step commits on its own, so an event's sealed body is visible before any workflow is signalled.
  const dispatchOnce = async (): Promise<number> =>
    opts.db.connection().execute(async (conn) => {
      const { rows } = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_lock(${DISPATCH_LOCK_KEY}) as locked`.execute(conn);
      if (!rows[0]?.locked) return 0;
      try {
        const events = await listUndispatchedEvents(conn, batchSize);
        for (const event of events) {
          if (event.body === null) await sealEventBody(conn, event.id, await renderBody(conn, event));
          for (const endpoint of await listListeningEndpoints(conn, event.tenant_id, event.type)) {
            const input: WebhookDeliveryInput = { endpointId: endpoint.id, streamKey: event.job_id, policy };
            await opts.client.workflow.signalWithStart('WebhookDeliveryWorkflow', {
              workflowId: webhookDeliveryWorkflowId(endpoint.id, event.job_id),
              taskQueue: opts.taskQueue,
              args: [input],
              signal: webhookEventSignal,
              signalArgs: [{ eventId: event.event_id, type: event.type, sequence: event.sequence }],
            });
          }
          await markEventDispatched(conn, event.id);
        }
        return events.length;
      } finally {
        await sql`select pg_advisory_unlock(${DISPATCH_LOCK_KEY})`.execute(conn);
      }
    });

  const loop = async () => {
    while (!stopped) {
      try {
        running = dispatchOnce();
        const n = await running;
        if (n === batchSize) continue;
      } catch (err) {
        opts.logger.warn({ err }, 'webhook dispatch failed; retrying');
      }
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  };
  const looping = loop();

  return {
    dispatchOnce,
    async stop() {
      stopped = true;
      await looping;
    },
  };
}

/** The envelope delivered for an outbox row: `data` is the job as the change left it. */
async function renderBody(db: Db, event: WebhookEventRow): Promise<string> {
  let data: V1EventEnvelope['data'];
  if (event.type.startsWith('fax.')) {
    const job = event.payload as unknown as JobSnapshot;
    const submission = await findJobSubmission(db, event.tenant_id, job.job_key ?? job.id);
    data = toV1Fax(job, await listJobAttempts(db, event.job_id, event.created_at), submission);
  } else {
    data = await renderBroadcast(db, event);
  }
  const envelope: V1EventEnvelope = {
    id: event.event_id,
    type: event.type as V1EventType,
    createdAt: event.created_at.toISOString(),
    tenantId: event.tenant_id,
    data,
  };
  return JSON.stringify(envelope);
}

/** `broadcast.completed`: every recipient's fax as it ended, and the counts by status. */
async function renderBroadcast(db: Db, event: WebhookEventRow): Promise<V1Broadcast> {
  const { broadcastId, jobIds } = event.payload as { broadcastId: string; jobIds: string[] };
  // The broadcast names its recipients' jobs by their keys within the tenant.
  const jobs = jobIds.length
    ? await db
        .selectFrom('fax_jobs')
        .selectAll()
        .where('tenant_id', '=', event.tenant_id)
        .where('job_key', 'in', jobIds)
        .execute()
    : [];
  const byKey = new Map(jobs.map((j) => [j.job_key, j]));
  const faxes = [];
  for (const key of jobIds) {
    const job = byKey.get(key);
    if (job)
      faxes.push(
        toV1Fax(
          job,
          await listJobAttempts(db, job.id),
          await findJobSubmission(db, event.tenant_id, job.job_key),
        ),
      );
  }
  const counts: V1Broadcast['counts'] = {};
  for (const f of faxes) {
    if (f.status !== 'WaitingForConnection') counts[f.status] = (counts[f.status] ?? 0) + 1;
  }
  return {
    object: 'broadcast',
    id: broadcastId,
    tenantId: event.tenant_id,
    total: jobIds.length,
    counts,
    completed: true,
    faxes,
  };
}
