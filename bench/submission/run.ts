/**
 * `npm run bench:submission [-- --n 200 --concurrency 8]`
 *
 * How fast upstream systems can hand faxes over: submissions per second and latency (p50/p99) through
 * the HTTP API (`POST /v1/faxes`, JSON with the document in base64, an Idempotency-Key per job) and
 * through the TypeScript client (`createFaxClient`, documents stored then the workflow started), with
 * 1-page and 20-page PDFs, against the production shape (separate Temporal, simulator, API and
 * worker processes; the worker keeps sending meanwhile, as it would). Writes
 * bench/results/submission.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../src/config/config';
import { makeSamplePdf } from '../../src/pdf/sample-document';
import { faxClientFor } from '../../src/workers/dependencies';
import { startProductionShape, type ProductionShape } from '../chaos/production-shape';
import { printTable } from '../support/measure';
import { benchResultsDir } from '../support/results';

const RESULTS = benchResultsDir();
const { values } = parseArgs({
  options: { n: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } },
});
const N = Number(values.n);
const CONCURRENCY = Number(values.concurrency);
const log = (line: string) => console.error(`[submission] ${line}`);

interface Result {
  path: string;
  pages: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
};

/** Runs `submit(i)` for i < N, `CONCURRENCY` at a time; latencies in ms and the wall time. */
async function measure(
  submit: (i: number) => Promise<void>,
): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        const s = performance.now();
        await submit(i);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - t0 };
}

const summary = (name: string, pages: number, m: { latencies: number[]; wallMs: number }): Result => ({
  path: name,
  pages,
  perSecond: (m.latencies.length / m.wallMs) * 1000,
  p50: quantile(m.latencies, 0.5),
  p99: quantile(m.latencies, 0.99),
});

async function main(): Promise<void> {
  let shape: ProductionShape | undefined;
  const results: Result[] = [];
  try {
    shape = await startProductionShape({
      workers: 1,
      timeScale: 0.01,
      ownPostgres: false,
      simulatorArgs: ['--no-rate-limits'],
      faxPolicy: { pollInitialMs: 60_000, pollMaxMs: 60_000 },
      env: { RINGCENTRAL_HEAVY_PER_MINUTE: '10000', RINGCENTRAL_MEDIUM_PER_MINUTE: '10000' },
    });
    const s = shape;
    const connection = await Connection.connect({ address: s.temporalAddress });
    const config = loadConfig({
      ...process.env,
      DATABASE_URL: s.databaseUrl,
      FAXFLOW_DATA_DIR: path.join(s.dir, 'data'),
      TEMPORAL_ADDRESS: s.temporalAddress,
      TEMPORAL_TASK_QUEUE: 'faxflow-chaos',
    });
    const faxClient = faxClientFor(config, new Client({ connection }));
    const runId = Date.now().toString(36);
    for (const pages of [1, 20]) {
      const pdf = await makeSamplePdf(pages, 'faxflow submission bench');
      const base64 = Buffer.from(pdf).toString('base64');
      log(`HTTP API, ${pages} page(s), ${(pdf.length / 1024).toFixed(0)} KB`);
      const http = await measure(async (i) => {
        const res = await fetch(`${s.apiUrl}/v1/faxes`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `sub-${runId}-h${pages}-${i}`,
            authorization: `Bearer ${s.apiKey}`,
          },
          body: JSON.stringify({
            to: `+1202555${String(1000 + i).padStart(4, '0')}`,
            documents: [{ filename: 'b.pdf', contentBase64: base64 }],
          }),
        });
        if (res.status !== 202) throw new Error(`POST /v1/faxes answered ${res.status}: ${await res.text()}`);
      });
      results.push(summary('HTTP API POST /v1/faxes', pages, http));
      log(`TypeScript client, ${pages} page(s)`);
      const ts = await measure(async (i) => {
        await faxClient.startFax({
          to: `+1202556${String(1000 + i).padStart(4, '0')}`,
          documents: [{ bytes: pdf, filename: 'b.pdf' }],
          idempotencyKey: `sub-${runId}-c${pages}-${i}`,
        });
      });
      results.push(summary('TypeScript client startFax', pages, ts));
    }
    await connection.close();
    printTable(
      `Submissions, ${N} per row, ${CONCURRENCY} at a time (${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`,
      ['path', 'pages', 'per second', 'p50 ms', 'p99 ms'],
      results.map((r) => [
        r.path,
        String(r.pages),
        r.perSecond.toFixed(1),
        r.p50.toFixed(0),
        r.p99.toFixed(0),
      ]),
    );
    await mkdir(RESULTS, { recursive: true });
    await writeFile(
      path.join(RESULTS, 'submission.json'),
      JSON.stringify(
        {
          at: new Date().toISOString(),
          machine: { cores: os.cpus().length, load1: os.loadavg()[0], node: process.version },
          n: N,
          concurrency: CONCURRENCY,
          results,
        },
        null,
        2,
      ),
    );
  } finally {
    await shape?.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
