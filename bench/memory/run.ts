/**
 * `npm run bench:memory [-- --n 5000 --cache 1000 --concurrency 32 --settle 30]`; as operators run
 * it: `npm run build && FAXFLOW_PREBUILT=1 npm run bench:memory` (compiled, prebuilt workflow bundle).
 *
 * N faxes in flight at once, each waiting on its delivery status (the simulator's account reports
 * delivery, and the recipient's number makes it stay at Sent), in the production shape: Temporal,
 * the simulator, `faxflow api` and one `faxflow worker` as separate processes. Reports the API's and
 * the worker's RSS (sampled every second, and the kernel's high-water mark), the largest Temporal
 * payload in a sample of histories (documents must never enter one), and what a workflow cache
 * smaller than N costs: `status` queries to jobs outside the cache replay their history.
 * Writes bench/results/memory.json.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { statusQuery } from '../../src/contracts/workflow-messages';
import type { Database } from '../../src/db/schema';
import { startProductionShape, type ProductionShape } from '../chaos/production-shape';
import { printTable } from '../support/measure';
import { benchResultsDir } from '../support/results';

const RESULTS = benchResultsDir();
const HOLD_AT_SENT = '+15550000005';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    cache: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '32' },
    sample: { type: 'string', default: '200' },
    // Seconds to let the processes settle at Sent before the steady RSS is read (bench:smoke: 1).
    settle: { type: 'string', default: '30' },
  },
});
const N = Number(values.n);
const CACHE = Number(values.cache);
const CONCURRENCY = Number(values.concurrency);
const SAMPLE = Math.min(N, Number(values.sample));
const SETTLE_S = Number(values.settle);
if (!(SETTLE_S >= 0)) throw new Error('--settle must be a number of seconds, 0 or more');
const log = (line: string) => console.error(`[memory] ${line}`);
/** What the processes run: the production build (FAXFLOW_PREBUILT=1 after `npm run build`) or the sources. */
const BUILD =
  process.env.FAXFLOW_PREBUILT && process.env.FAXFLOW_PREBUILT !== '0' ? 'production build' : 'from source';

async function rssMb(pid: number | undefined): Promise<{ rss: number; hwm: number }> {
  if (pid === undefined) return { rss: 0, hwm: 0 };
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** The largest single payload (bytes) anywhere in a history: inputs, results, signals, memos. */
function largestPayload(node: unknown): number {
  let max = 0;
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== 'object') return;
    if (Array.isArray(x)) return x.forEach(walk);
    const o = x as Record<string, unknown>;
    if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
      max = Math.max(max, o.data.length);
    }
    Object.values(o).forEach(walk);
  };
  walk(node);
  return max;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([612, 792]).drawText('faxflow memory bench', { x: 72, y: 700, size: 14, font });
  const pdf = Buffer.from(await doc.save()).toString('base64');

  let shape: ProductionShape | undefined;
  const samples: { t: number; api: number; worker: number }[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    shape = await startProductionShape({
      workers: 1,
      timeScale: 0.01,
      ownPostgres: false,
      statusModel: 'delivery-reports',
      simulatorArgs: ['--no-rate-limits'],
      // Nothing else happens while they wait: the status arrives by webhook or never.
      faxPolicy: {
        pollInitialMs: 3_600_000,
        pollMaxMs: 3_600_000,
        pollWithWebhooksMs: 3_600_000,
        sentQuietPeriodMs: 6 * 3_600_000,
        killAfterMs: 12 * 3_600_000,
      },
      env: {
        RINGCENTRAL_DELIVERY_REPORTS: 'yes',
        RINGCENTRAL_HEAVY_PER_MINUTE: '10000',
        RINGCENTRAL_MEDIUM_PER_MINUTE: '10000',
        RINGCENTRAL_LIGHT_PER_MINUTE: '10000',
        FAXFLOW_MAX_CACHED_WORKFLOWS: String(CACHE),
      },
    });
    const s = shape;
    const t0 = Date.now();
    sampler = setInterval(() => {
      void Promise.all([rssMb(s.api.pid), rssMb(s.workers[0]?.pid)]).then(([a, w]) =>
        samples.push({ t: Date.now() - t0, api: a.rss, worker: w.rss }),
      );
    }, 1_000);
    const before = { api: await rssMb(s.api.pid), worker: await rssMb(s.workers[0]?.pid) };
    log(
      `stack up; api ${before.api.rss.toFixed(0)} MB, worker ${before.worker.rss.toFixed(0)} MB; submitting ${N}`,
    );

    const runId = Date.now().toString(36);
    const keys = Array.from({ length: N }, (_, i) => `mem-${runId}-${i}`);
    await pool(keys, CONCURRENCY, async (key) => {
      for (;;) {
        const res = await fetch(`${s.apiUrl}/v1/faxes`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            authorization: `Bearer ${s.apiKey}`,
          },
          body: JSON.stringify({ to: HOLD_AT_SENT, documents: [{ filename: 'm.pdf', contentBase64: pdf }] }),
        }).catch(() => undefined);
        if (res && res.status < 300) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    });
    const submittedMs = Date.now() - t0;
    log(`${N} submitted in ${(submittedMs / 1000).toFixed(0)} s; waiting until every job is at Sent`);

    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: s.databaseUrl, max: 2 }) }),
    });
    let atSent = 0;
    while (atSent < N) {
      const row = await db
        .selectFrom('fax_jobs')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'Sent')
        .executeTakeFirstOrThrow();
      atSent = Number(row.n);
      if (atSent < N) await new Promise((r) => setTimeout(r, 2_000));
    }
    const inFlightMs = Date.now() - t0;
    log(`${N} in flight at Sent after ${(inFlightMs / 1000).toFixed(0)} s; settling ${SETTLE_S} s`);
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const steady = { api: await rssMb(s.api.pid), worker: await rssMb(s.workers[0]?.pid) };

    const connection = await Connection.connect({ address: s.temporalAddress });
    const client = new Client({ connection });
    const sampleKeys = keys.filter((_, i) => i % Math.max(1, Math.floor(N / SAMPLE)) === 0).slice(0, SAMPLE);
    let largest = 0;
    const queryMs: number[] = [];
    for (const key of sampleKeys) {
      const handle = client.workflow.getHandle(faxWorkflowId(key));
      const history = await handle.fetchHistory();
      largest = Math.max(largest, largestPayload(history));
      const q0 = performance.now();
      await handle.query(statusQuery);
      queryMs.push(performance.now() - q0);
    }
    await connection.close();
    await db.destroy();

    const peakApi = Math.max(...samples.map((x) => x.api), steady.api.hwm);
    const peakWorker = Math.max(...samples.map((x) => x.worker), steady.worker.hwm);
    printTable(
      `${N} faxes in flight (worker cache ${CACHE}, ${BUILD}${process.env.NODE_OPTIONS ? `, NODE_OPTIONS ${process.env.NODE_OPTIONS}` : ''}; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`,
      ['measure', 'value', 'target'],
      [
        [
          'worker RSS steady / peak (MB)',
          `${steady.worker.rss.toFixed(0)} / ${peakWorker.toFixed(0)}`,
          '≤ 500',
        ],
        ['API RSS steady / peak (MB)', `${steady.api.rss.toFixed(0)} / ${peakApi.toFixed(0)}`, ''],
        ['largest Temporal payload (bytes)', String(largest), '≤ 16384'],
        [
          `status query p50 / p99 (ms), ${sampleKeys.length} jobs`,
          `${quantile(queryMs, 0.5).toFixed(0)} / ${quantile(queryMs, 0.99).toFixed(0)}`,
          '',
        ],
        [
          'all submitted / all at Sent (s)',
          `${(submittedMs / 1000).toFixed(0)} / ${(inFlightMs / 1000).toFixed(0)}`,
          '',
        ],
      ],
    );
    await mkdir(RESULTS, { recursive: true });
    await writeFile(
      path.join(RESULTS, 'memory.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, load1: os.loadavg()[0], node: process.version },
          n: N,
          cache: CACHE,
          build: BUILD,
          // Inherited by every process of the shape: e.g. a heap cap on the worker.
          nodeOptions: process.env.NODE_OPTIONS ?? null,
          before,
          steady,
          peak: { api: peakApi, worker: peakWorker },
          largestPayloadBytes: largest,
          statusQueryMs: { p50: quantile(queryMs, 0.5), p99: quantile(queryMs, 0.99) },
          submittedMs,
          inFlightMs,
          samples,
        },
        null,
        2,
      ),
    );
  } finally {
    if (sampler) clearInterval(sampler);
    await shape?.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
