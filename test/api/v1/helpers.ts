import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { buildApp, type ApiOptions } from '../../../src/api/app';
import type { V1ApiOptions, V1FaxClient, WorkflowControl } from '../../../src/api/v1/index';
import type {
  StartBroadcastRequest,
  StartedBroadcast,
  StartedFax,
  StartFaxRequest,
} from '../../../src/client/fax-client';
import { broadcastJobId } from '../../../src/contracts/workflow-ids';
import type { CancelFaxResult, RescheduleFaxResult } from '../../../src/contracts/workflow-types';
import { createApiKey } from '../../../src/db/api-keys';
import type { Database } from '../../../src/db/schema';
import { createTenant } from '../../../src/db/tenants';
import { tempDir } from '../../support/database';
import { FakeFaxClient, NotificationRecorder } from '../helpers';

/**
 * Records starts like the real client would make them: the job id is the idempotency key (or a
 * fresh one), workflow ids carry the tenant, and a second start with the same key is `started: false`.
 */
export class FakeV1FaxClient implements V1FaxClient {
  readonly faxes: StartFaxRequest[] = [];
  readonly broadcasts: StartBroadcastRequest[] = [];
  failNext: Error | undefined;
  /** Called inside startFax, to hold a start open (concurrency tests). */
  gate: (() => Promise<void>) | undefined;
  private readonly seen = new Set<string>();

  startFax = async (r: StartFaxRequest): Promise<StartedFax> => {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    await this.gate?.();
    this.faxes.push(r);
    const jobId = r.idempotencyKey ?? randomUUID();
    const workflowId = `fax-${r.tenantId ?? 'default'}-${jobId}`;
    const started = !this.seen.has(workflowId);
    this.seen.add(workflowId);
    return { jobId, workflowId, started };
  };

  startBroadcast = async (r: StartBroadcastRequest): Promise<StartedBroadcast> => {
    this.broadcasts.push(r);
    const broadcastId = r.idempotencyKey ?? randomUUID();
    return {
      broadcastId,
      workflowId: `broadcast-${r.tenantId ?? 'default'}-${broadcastId}`,
      started: true,
      jobIds: r.recipients.map((_, i) => broadcastJobId(broadcastId, i)),
    };
  };
}

/** Cancel and reschedule answered as told; records the workflow ids it was asked about. */
export class FakeControl implements WorkflowControl {
  readonly calls: { op: string; workflowId: string; sendAt?: string }[] = [];
  cancelResult: CancelFaxResult = { canceled: true };
  rescheduleResult: ((sendAt: string) => RescheduleFaxResult) | undefined;

  status = async () => undefined;
  cancel = async (workflowId: string): Promise<CancelFaxResult> => {
    this.calls.push({ op: 'cancel', workflowId });
    return this.cancelResult;
  };
  reschedule = async (workflowId: string, sendAt: string): Promise<RescheduleFaxResult> => {
    this.calls.push({ op: 'reschedule', workflowId, sendAt });
    return this.rescheduleResult?.(sendAt) ?? { rescheduled: true, sendAt };
  };
}

export interface V1TestApp {
  app: FastifyInstance;
  faxClient: FakeV1FaxClient;
  control: FakeControl;
  documentsRoot: string;
}

export async function makeV1App(
  db: Kysely<Database>,
  v1: Partial<Omit<V1ApiOptions, 'db'>> = {},
  opts: ApiOptions = {},
): Promise<V1TestApp> {
  const faxClient = new FakeV1FaxClient();
  const control = new FakeControl();
  const documentsRoot = await tempDir('faxflow-v1-docs-');
  const app = await buildApp(
    {
      db,
      faxClient: new FakeFaxClient(),
      onNotification: new NotificationRecorder().handler,
      v1: { faxClient, control, documentsRoot, ...v1 },
    },
    opts,
  );
  return { app, faxClient, control, documentsRoot };
}

/** A fresh tenant with one API key. */
export async function tenantWithKey(
  db: Kysely<Database>,
  label = 't',
): Promise<{ tenantId: string; key: string; keyId: string }> {
  const tenantId = `${label}-${randomUUID().slice(0, 8)}`;
  await createTenant(db, { id: tenantId, name: `Test ${tenantId}` });
  const created = await createApiKey(db, { tenantId, name: 'test' });
  return { tenantId, key: created.key, keyId: created.id };
}

export function auth(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** Every file under the document store (staging folder included). */
export async function storedFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(root, p));
    }
  }
  await walk(root);
  return out.sort();
}

/** A multipart/form-data body: fields (repeated when an array) and files. */
export function form(
  fields: Record<string, string | string[]>,
  files: { field?: string; filename: string; content: Uint8Array; type?: string }[] = [],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----faxflow${randomUUID().replace(/-/g, '')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      chunks.push(
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`),
      );
    }
  }
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? 'file'}"; filename="${f.filename}"\r\nContent-Type: ${f.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      Buffer.from(f.content),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

export function errorOf(res: { json: () => unknown }): {
  code: string;
  message: string;
  details?: Record<string, unknown>;
} {
  return (res.json() as { error: { code: string; message: string; details?: Record<string, unknown> } })
    .error;
}
