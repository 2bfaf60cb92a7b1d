import type { Client } from '@temporalio/client';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { V1EventEnvelope, V1EventType } from '../contracts/v1-api';
import {
  DEFAULT_WEBHOOK_RETRY_POLICY,
  webhookDeliveryWorkflowId,
  webhookEventSignal,
  type WebhookDeliveryInput,
  type WebhookRetryPolicy,
} from '../contracts/webhook-delivery';
import { listJobAttempts } from '../db/event-job-reads';
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
 * 2. Dispatching (this file, in every worker process): one leader at a time (a transaction-scoped
 *    advisory lock) reads undispatched rows in id order, seals each event's body once (the envelope
 *    with the job as `GET /v1/faxes/:id` shows it), signals-with-start one `WebhookDeliveryWorkflow`
 *    per (endpoint, job) under a deterministic id, and marks the row dispatched in the same
 *    transaction. A crash before the commit re-signals the same rows; the workflow drops repeats.
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

  const dispatchOnce = async (): Promise<number> =>
    opts.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        locked: boolean;
      }>`select pg_try_advisory_xact_lock(${DISPATCH_LOCK_KEY}) as locked`.execute(trx);
      if (!rows[0]?.locked) return 0;
      const events = await listUndispatchedEvents(trx, batchSize);
      for (const event of events) {
        const body = event.body ?? (await renderBody(trx, event));
        if (event.body === null) await sealEventBody(trx, event.id, body);
        for (const endpoint of await listListeningEndpoints(trx, event.tenant_id, event.type)) {
          const input: WebhookDeliveryInput = { endpointId: endpoint.id, streamKey: event.job_id, policy };
          await opts.client.workflow.signalWithStart('WebhookDeliveryWorkflow', {
            workflowId: webhookDeliveryWorkflowId(endpoint.id, event.job_id),
            taskQueue: opts.taskQueue,
            args: [input],
            signal: webhookEventSignal,
            signalArgs: [{ eventId: event.event_id, type: event.type, sequence: event.sequence }],
          });
        }
        await markEventDispatched(trx, event.id);
      }
      return events.length;
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
    data = toV1Fax(job, await listJobAttempts(db, event.job_id, event.created_at));
  } else {
    data = event.payload as unknown as V1EventEnvelope['data'];
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
