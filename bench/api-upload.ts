/**
 * `npm run bench:upload [-- --mb 50 --runs 3]`: one large document through `POST /v1/faxes`, as a
 * streamed multipart upload and as base64 JSON, against an API in its own process. Prints the API
 * process's RSS growth (peak over its settled baseline), what it still holds afterwards, and the
 * time; writes bench/results/api-upload.json. Figures are medians over the runs.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiKey } from '../src/db/api-keys';
import { benchResultsDir } from './support/results';
import { createScratchDatabase } from './support/scratch-db';
import { mb, startApiProcess } from './api-support';

const { values } = parseArgs({ options: { mb: { type: 'string' }, runs: { type: 'string' } } });
const sizeMb = Number(values.mb ?? 50);
const runs = Number(values.runs ?? 3);
const progress = (line: string) => process.stderr.write(`${line}\n`);

/** A file that passes the API's cheap checks as a PDF (header, %%EOF), of the given size. */
async function makeFile(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  const head = Buffer.from('%PDF-1.7\n% benchmark filler\n');
  const tail = Buffer.from('\n%%EOF\n');
  await handle.write(head);
  const chunk = Buffer.alloc(1024 * 1024, 0x41);
  let left = bytes - head.length - tail.length;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    await handle.write(chunk.subarray(0, n));
    left -= n;
  }
  await handle.write(tail);
  await handle.close();
}

function send(
  url: URL,
  headers: Record<string, string>,
  body: NodeJS.ReadableStream | Buffer,
): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const scratch = await createScratchDatabase('faxflow_bench_upload');
const dir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-bench-upload-'));
let api: Awaited<ReturnType<typeof startApiProcess>> | undefined;
try {
  const { key } = await createApiKey(scratch.handle.db, { tenantId: 'default', name: 'bench' });
  api = await startApiProcess({
    databaseUrl: scratch.url,
    documentsRoot: path.join(dir, 'documents'),
    jsonBodyLimit: 128 * 1024 * 1024,
  });
  const file = path.join(dir, 'big.pdf');
  await makeFile(file, Math.round(sizeMb * 1024 * 1024));
  const url = new URL('/v1/faxes', api.url);
  const auth = { authorization: `Bearer ${key}` };
  const results: Record<string, { growth: number[]; retained: number[]; ms: number[] }> = {
    multipart: { growth: [], retained: [], ms: [] },
    json: { growth: [], retained: [], ms: [] },
  };
  // Warm-up (not measured): the first request of each kind loads code and fills pools.
  for (let run = -1; run < runs; run++) {
    for (const mode of ['multipart', 'json'] as const) {
      // Each run is a new document (new bytes), so nothing is deduplicated by the store.
      const fd = await open(file, 'r+');
      await fd.write(Buffer.from(`${mode}${run}`.padEnd(16)), 0, 16, 20);
      await fd.close();
      const baseline = await api.settle();
      let res;
      if (mode === 'multipart') {
        const boundary = '----faxflowbench';
        const { PassThrough } = await import('node:stream');
        const body = new PassThrough();
        body.write(`--${boundary}\r\nContent-Disposition: form-data; name="to"\r\n\r\n+12025550123\r\n`);
        body.write(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
        );
        const stream = createReadStream(file);
        stream.pipe(body, { end: false });
        stream.on('end', () => body.end(`\r\n--${boundary}--\r\n`));
        res = await send(
          url,
          {
            ...auth,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'idempotency-key': `up-${mode}-${run}`,
          },
          body,
        );
      } else {
        const json = Buffer.from(
          JSON.stringify({
            to: '+12025550123',
            documents: [{ filename: 'big.pdf', contentBase64: (await readFile(file)).toString('base64') }],
          }),
        );
        res = await send(
          url,
          { ...auth, 'content-type': 'application/json', 'idempotency-key': `up-${mode}-${run}` },
          json,
        );
      }
      if (res.status !== 202) throw new Error(`${mode}: HTTP ${res.status}`);
      const peak = await api.peak();
      const after = await api.settle();
      if (run < 0) continue;
      results[mode]!.growth.push(peak - baseline);
      results[mode]!.retained.push(after - baseline);
      results[mode]!.ms.push(res.ms);
      progress(`run ${run + 1} ${mode}: +${mb(peak - baseline)} MB peak, ${res.ms.toFixed(0)} ms`);
    }
  }
  const rows = Object.entries(results).map(([mode, r]) => ({
    mode,
    growthMb: Number(mb(median(r.growth))),
    retainedMb: Number(mb(median(r.retained))),
    ms: Math.round(median(r.ms)),
  }));
  console.log(`\nPOST /v1/faxes with one ${sizeMb} MB document, API process RSS (median of ${runs})`);
  console.log('| encoding | RSS growth (peak) | RSS retained after GC | time |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.mode} | ${r.growthMb} MB | ${r.retainedMb} MB | ${r.ms} ms |`);
  await mkdir(benchResultsDir(), { recursive: true });
  await writeFile(
    path.join(benchResultsDir(), 'api-upload.json'),
    `${JSON.stringify({ sizeMb, runs, machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, node ${process.version}`, at: new Date().toISOString(), rows }, null, 2)}\n`,
  );
} finally {
  await api?.stop();
  await scratch.drop();
  await rm(dir, { recursive: true, force: true });
}
