/**
 * The API process of the v1 benchmarks (bench/api-upload.ts, bench/api-submit.ts), forked by them
 * so that its memory is measured apart from the client's. Argument: JSON `{ databaseUrl,
 * documentsRoot, temporalAddress?, jsonBodyLimit? }`. Without `temporalAddress` the fax client only
 * stores what a real one stores (uploads are measured, not Temporal). It samples its RSS every 5 ms
 * and answers `{cmd: 'gc'}` (collect, reset the peak, report) and `{cmd: 'peak'}` over IPC.
 */
import { Client, Connection } from '@temporalio/client';
import { buildApp, type FaxApiClient } from '../src/api/app';
import { temporalWorkflowControl, type V1FaxClient, type WorkflowControl } from '../src/api/v1/index';
import { createFaxClient } from '../src/client/fax-client';
import { connectPostgres } from '../src/db/connection';
import { createLocalDocumentStore } from '../src/storage/local-document-store';

interface Args {
  databaseUrl: string;
  documentsRoot: string;
  temporalAddress?: string;
  jsonBodyLimit?: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let peak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);

const database = connectPostgres(args.databaseUrl, { max: 10 });
const store = createLocalDocumentStore(args.documentsRoot);
let connection: Connection | undefined;
let faxClient: V1FaxClient & FaxApiClient;
let control: WorkflowControl;
if (args.temporalAddress) {
  connection = await Connection.connect({ address: args.temporalAddress });
  const client = new Client({ connection });
  faxClient = createFaxClient({ client, documents: store, taskQueue: 'bench-api', defaultRegion: 'US' });
  control = temporalWorkflowControl(client);
} else {
  let n = 0;
  const start = async (r: { idempotencyKey?: string; documents: unknown[] }) => {
    // What the real client does with documents it gets as bytes: store them (v1 hands over stored ones).
    for (const d of r.documents as { bytes?: Uint8Array; filename?: string }[]) {
      if (d.bytes)
        await store.put(d.bytes, { filename: d.filename ?? 'doc', contentType: 'application/pdf' });
    }
    const jobId = r.idempotencyKey ?? `job-${++n}`;
    return { jobId, workflowId: `fax-${jobId}` };
  };
  faxClient = {
    startFax: async (r) => ({ ...(await start(r)), started: true }),
    startBroadcast: async (r) => {
      const { jobId, workflowId } = await start(r);
      return {
        broadcastId: jobId,
        workflowId,
        started: true,
        jobIds: r.recipients.map((_, i) => `${jobId}~${i + 1}`),
      };
    },
    getFax: async () => undefined,
  };
  control = {
    status: async () => undefined,
    cancel: async () => ({ canceled: true }),
    reschedule: async (_id, sendAt) => ({ rescheduled: true, sendAt }),
  };
}

const app = await buildApp(
  {
    db: database.db,
    faxClient,
    onNotification: async () => undefined,
    v1: {
      faxClient,
      control,
      documentsRoot: args.documentsRoot,
      rateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
      ...(args.jsonBodyLimit && { jsonBodyLimit: args.jsonBodyLimit }),
    },
  },
  { faxBodyLimit: 80 * 1024 * 1024 },
);
const url = await app.listen({ host: '127.0.0.1', port: 0 });

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'gc') {
    gc?.();
    gc?.();
    const rss = process.memoryUsage().rss;
    peak = rss;
    process.send?.({ rss, peak });
  } else if (m.cmd === 'peak') {
    process.send?.({ rss: process.memoryUsage().rss, peak });
  } else if (m.cmd === 'exit') {
    clearInterval(sampler);
    void app
      .close()
      .then(() => database.close())
      .then(() => connection?.close())
      .finally(() => process.exit(0));
  }
});
process.send?.({ ready: true, url });
