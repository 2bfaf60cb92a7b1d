/**
 * Worker start-up: time from spawning `faxflow worker` until Temporal sees it polling its task queue,
 * and its memory, in three set-ups:
 *
 * - source: `node bin/faxflow.js worker` through tsx, bundling the workflow code at start (development);
 * - compiled: the production build's JavaScript, still bundling the workflows at start;
 * - prebuilt: the production build with its prebuilt workflow bundle (what `npm run build` ships).
 *
 *   npm run bench:worker-start [-- --runs 5]
 *
 * Runs are interleaved (one of each set-up per round) so machine load falls on all three alike;
 * figures are medians. Prints a table and writes bench/results/worker-start.json. Needs PostgreSQL at
 * 127.0.0.1:5432 (a scratch database is created and dropped); Temporal is provisioned like the demo's.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TestWorkflowEnvironment } from '@temporalio/testing';
// A CommonJS package: under Node's ESM loader (tsx) only its default export is reliable.
import proto from '@temporalio/proto';
import { startSimulator } from '../src/simulator';
import { defaultToolsDir, explainMissingBinary, provideTemporalBinary } from '../src/stack/temporal-binary';
import { TEMPORAL_CLI } from '../src/stack/temporal-versions';
import { installTemporalRuntime } from '../src/workers/runtime';
import { printTable } from './support/measure';
import { benchResultsDir } from './support/results';
import { createScratchDatabase } from './support/scratch-db';

const ROOT = path.resolve(import.meta.dirname, '..');
const TSX_CLI = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Sample {
  readyMs: number;
  /** RSS once polling, and the peak RSS up to then (VmHWM): bundling peaks well above the steady state. */
  rssMb: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number of at least 1');
  const log = (line: string): void => console.error(`[worker-start] ${line}`);
  installTemporalRuntime('ERROR');

  const closers: (() => Promise<unknown>)[] = [];
  try {
    await mkdir(path.join(ROOT, '.faxflow'), { recursive: true });
    // Inside the checkout, like dist/: the compiled code resolves node_modules from here.
    const buildDir = await mkdtemp(path.join(ROOT, '.faxflow', 'bench-build-'));
    closers.push(() => rm(buildDir, { recursive: true, force: true }));
    log(`building into ${buildDir}`);
    await run(process.execPath, [TSX_CLI, 'scripts/build.ts', '--out-dir', buildDir]);
    const compiledDir = await mkdtemp(path.join(ROOT, '.faxflow', 'bench-build-nobundle-'));
    closers.push(() => rm(compiledDir, { recursive: true, force: true }));
    await run('cp', ['-r', `${buildDir}/.`, compiledDir]);
    await rename(
      path.join(compiledDir, 'workflow-bundle.js'),
      path.join(compiledDir, 'no-workflow-bundle.js'),
    );

    log('starting the Temporal dev server, the simulator and a scratch database');
    const toolsDir = defaultToolsDir();
    const cli = await provideTemporalBinary(TEMPORAL_CLI, {
      explicit: process.env.TEMPORAL_CLI_PATH,
      toolsDir,
      onProgress: log,
    });
    const env = await explainMissingBinary(TEMPORAL_CLI, cli, () =>
      TestWorkflowEnvironment.createLocal({
        server: { executable: cli, ip: '127.0.0.1', ui: false, log: { format: 'pretty', level: 'error' } },
      }),
    );
    closers.push(() => env.teardown());
    const simulator = await startSimulator({ timeScale: 0.01 });
    closers.push(() => simulator.close());
    const database = await createScratchDatabase('faxflow_bench_worker_start');
    closers.push(() => database.drop());

    const setups = {
      source: {},
      compiled: { FAXFLOW_PREBUILT: compiledDir },
      prebuilt: { FAXFLOW_PREBUILT: buildDir },
    } as const;
    const samples: Record<keyof typeof setups, Sample[]> = { source: [], compiled: [], prebuilt: [] };
    for (let round = 1; round <= runs; round++) {
      for (const [name, extra] of Object.entries(setups) as [keyof typeof setups, Record<string, string>][]) {
        const sample = await startOnce(
          {
            TEMPORAL_ADDRESS: env.address,
            DATABASE_URL: database.url,
            RINGCENTRAL_SERVER_URL: simulator.url,
            RINGCENTRAL_CLIENT_ID: simulator.credentials.clientId,
            RINGCENTRAL_CLIENT_SECRET: simulator.credentials.clientSecret,
            RINGCENTRAL_JWT: simulator.credentials.jwt,
            LOG_LEVEL: 'warn',
            ...extra,
          },
          env,
        );
        samples[name].push(sample);
        log(
          `round ${round}/${runs} ${name}: ready in ${sample.readyMs} ms, RSS ${sample.rssMb} MB (peak ${sample.peakRssMb} MB)`,
        );
      }
    }

    const rows = (Object.keys(setups) as (keyof typeof setups)[]).map((name) => {
      const s = samples[name];
      return {
        setup: name,
        readyMsMedian: median(s.map((x) => x.readyMs)),
        rssMbMedian: median(s.map((x) => x.rssMb)),
        peakRssMbMedian: median(s.map((x) => x.peakRssMb)),
        samples: s,
      };
    });
    printTable(
      `faxflow worker start-up, median of ${runs} (until Temporal sees it polling)`,
      ['set-up', 'ready (s)', 'RSS when ready (MB)', 'peak RSS (MB)'],
      rows.map((r) => [r.setup, r.readyMsMedian / 1000, r.rssMbMedian, r.peakRssMbMedian]),
    );
    const machine = {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverage1m: os.loadavg()[0],
    };
    await mkdir(benchResultsDir(), { recursive: true });
    const out = path.join(benchResultsDir(), 'worker-start.json');
    await writeFile(
      out,
      `${JSON.stringify({ date: new Date().toISOString(), runs, machine, results: rows }, null, 2)}\n`,
    );
    log(`wrote ${out}`);
  } finally {
    for (const close of closers.reverse())
      await close().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  }
}

async function startOnce(extraEnv: Record<string, string>, env: TestWorkflowEnvironment): Promise<Sample> {
  const taskQueue = `bench-worker-start-${randomUUID()}`;
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(FAXFLOW_|TEMPORAL_|RINGCENTRAL_|DATABASE_URL$)/.test(k)),
  );
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'faxflow.js'), 'worker'], {
    cwd: ROOT,
    env: { ...inherited, ...extraEnv, TEMPORAL_TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) throw new Error(`the worker did not poll within 180 s: ${stderr}`);
      const res = await env.connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (res.pollers.length > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = Math.round(performance.now() - started);
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = (key: string): number =>
      Number(status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    return { readyMs, rssMb: Math.round(kb('VmRSS') / 1024), peakRssMb: Math.round(kb('VmHWM') / 1024) };
  } finally {
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

await main();
