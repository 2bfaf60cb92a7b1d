/**
 * `npm run bench:submit [-- --n 200 --concurrency 8]`: submissions per second through
 * `POST /v1/faxes` (multipart, a 1-page PDF, a new Idempotency-Key each, authenticated), against an
 * API in its own process that starts real workflows on a Temporal dev server (no workers: the
 * figure is the submission path: auth, rate limit, streamed upload, idempotency record, workflow
 * start, submission row). Prints throughput and latency percentiles; writes bench/results/api-submit.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createApiKey } from '../src/db/api-keys';
import { makeSamplePdf } from '../src/pdf/sample-document';
import { FAX_SEARCH_ATTRIBUTES } from '../src/contracts/search-attributes';
import { resolveTemporalCli } from '../src/stack/temporal-binary';
import { installTemporalRuntime } from '../src/workers/runtime';
import { benchResultsDir } from './support/results';
import { createScratchDatabase } from './support/scratch-db';
import { percentile } from './support/measure';
import { mb, startApiProcess } from './api-support';

const { values } = parseArgs({ options: { n: { type: 'string' }, concurrency: { type: 'string' } } });
const n = Number(values.n ?? 200);
const concurrency = Number(values.concurrency ?? 8);
const progress = (line: string) => process.stderr.write(`${line}\n`);

installTemporalRuntime('ERROR');
progress('starting the Temporal dev server and a scratch database');
const [env, scratch] = await Promise.all([
  TestWorkflowEnvironment.createLocal({
    server: {
      executable: resolveTemporalCli(process.env.TEMPORAL_CLI_PATH),
      ip: '127.0.0.1',
      ui: false,
      searchAttributes: FAX_SEARCH_ATTRIBUTES,
      log: { format: 'pretty', level: 'error' },
    },
  }),
  createScratchDatabase('faxflow_bench_submit'),
]);
const dir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-bench-submit-'));
let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
try {
  const { key } = await createApiKey(scratch.handle.db, { tenantId: 'default', name: 'bench' });
  api = await startApiProcess({
    databaseUrl: scratch.url,
    documentsRoot: path.join(dir, 'documents'),
    temporalAddress: env.address,
  });
  const pdf = Buffer.from(await makeSamplePdf(1));
  const url = new URL('/v1/faxes', api.url);
  const run = randomUUID().slice(0, 8);

  async function submit(i: number): Promise<number> {
    const body = new FormData();
    body.append('to', '+12025550123');
    body.append('metadata', JSON.stringify({ bench: run }));
    body.append('file', new Blob([pdf], { type: 'application/pdf' }), 'one-page.pdf');
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'idempotency-key': `bench-${run}-${i}` },
      body,
    });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`submission ${i}: HTTP ${res.status}`);
    return performance.now() - t0;
  }

  // Warm-up: code loading, connection pools, the first workflow start.
  for (let i = 0; i < 10; i++) await submit(-1 - i);
  const baseline = await api.settle();
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) latencies.push(await submit(next++));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const peak = await api.peak();
  latencies.sort((a, b) => a - b);
  const row = {
    n,
    concurrency,
    perSecond: Number((n / seconds).toFixed(1)),
    p50Ms: Math.round(percentile(latencies, 0.5)),
    p99Ms: Math.round(percentile(latencies, 0.99)),
    maxMs: Math.round(latencies.at(-1) ?? 0),
    apiRssGrowthMb: Number(mb(peak - baseline)),
  };
  console.log(
    `\nPOST /v1/faxes, multipart 1-page PDF, Idempotency-Key, Bearer key; real workflow starts (Temporal dev server)`,
  );
  console.log('| submissions | concurrency | per second | p50 | p99 | max | API RSS growth |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  console.log(
    `| ${row.n} | ${row.concurrency} | ${row.perSecond} | ${row.p50Ms} ms | ${row.p99Ms} ms | ${row.maxMs} ms | ${row.apiRssGrowthMb} MB |`,
  );
  await mkdir(benchResultsDir(), { recursive: true });
  await writeFile(
    path.join(benchResultsDir(), 'api-submit.json'),
    `${JSON.stringify({ machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`, at: new Date().toISOString(), ...row }, null, 2)}\n`,
  );
} finally {
  await api?.stop();
  await scratch.drop();
  await env.teardown();
  await rm(dir, { recursive: true, force: true });
}
