/**
 * `npm run bench:throughput [-- --n 1000 --runs 3 --store file|memory]`
 *
 * N one-page faxes through the whole pipeline (client submission, validation, send to the simulator
 * with near-instant transmission and no rate limits, webhook, reconcile, record in Postgres) and, in
 * the same run on the same Temporal server, N bare baseline workflows doing the same number of
 * no-op activities, timers and signals. Prints faxes completed per second for both and the ratio,
 * Temporal actions and RingCentral calls per fax, each party's CPU per item (this process's also by
 * thread), and the five hottest functions and packages of this process, where the workers run (its
 * CPU profile). Figures are medians over `--runs`.
 */
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DEFAULT_POLICY } from '../../src/contracts/workflow-types';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { makeSamplePdf } from '../../src/pdf/sample-document';
import {
  startBase,
  startPipeline,
  type BenchBase,
  type Pipeline,
  type TemporalStore,
} from '../support/bench-stack';
import {
  actionTotal,
  countWorkflowRuns,
  countWorkflows,
  fmt,
  printTable,
  sumCounts,
} from '../support/measure';
import type { BaselineActivities, BaselineWorkflow } from './baseline-workflow';
import { cpuSince, noteWorkflowThreads, readCpu, type CpuReading, type ThreadCpu } from './process-cpu';
import { benchResultsDir } from '../support/results';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = benchResultsDir();

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    store: { type: 'string', default: 'file' },
  },
});
const N = Number(values.n);
const RUNS = Number(values.runs);
if (values.store !== 'file' && values.store !== 'memory') {
  console.error(`--store must be file or memory, not ${JSON.stringify(values.store)}`);
  process.exit(2);
}
/**
 * Where the Temporal server keeps its state. `file` (the default): on disk, as the production shape
 * runs it and as any real Temporal deployment does, so the server's durable writes take their time.
 * `memory`: nothing reaches the disk, and on two shared cores the server then competes with
 * everything else for CPU (docs/benchmarks.md compares the two).
 */
const STORE: TemporalStore = values.store;
const CONCURRENCY = 16;
/** Faxes in the profiled warm-up run (at most N). */
const PROFILE_N = 200;
const log = (line: string) => console.error(`[throughput] ${line}`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Temporal actions per item, as the tables print them. */
interface ItemActions {
  activities: number;
  timers: number;
  signals: number;
  upserts: number;
  total: number;
  activitiesAfterSignal: number;
}

function actionsPerItem(counts: ReturnType<typeof sumCounts>, n: number): ItemActions {
  const per = (v: number) => v / n;
  return {
    activities: per(counts.activities),
    timers: per(counts.timers),
    signals: per(counts.signals),
    upserts: per(counts.upserts),
    total: per(counts.start + counts.activities + counts.timers + counts.signals + counts.upserts),
    activitiesAfterSignal: per(counts.activitiesAfterSignal),
  };
}

interface FaxRun {
  perSecond: number;
  wallMs: number;
  actionsPerFax: ItemActions;
  ringcentralCallsPerFax: number;
  /** Temporal actions of the shared workflows (subscription keeper, reconciler) in this run, per fax. */
  sharedActionsPerFax: number;
  /** CPU milliseconds per fax, from submission to the last completion, by party. */
  cpuMsPerItem: CpuReading;
}

const perItem = (c: CpuReading, n = N): CpuReading => {
  const ms = (seconds: number) => Math.round((seconds * 1000) / n);
  const tenths = (seconds: number) => Math.round((seconds * 10_000) / n) / 10;
  return {
    self: ms(c.self),
    temporal: ms(c.temporal),
    postgres: ms(c.postgres),
    simulator: ms(c.simulator),
    ...(c.threads && {
      threads: {
        main: tenths(c.threads.main),
        workflow: tenths(c.threads.workflow),
        rust: tenths(c.threads.rust),
        helpers: tenths(c.threads.helpers),
      },
    }),
  };
};

async function faxflowRun(base: BenchBase, pipe: Pipeline, run: number, n = N): Promise<FaxRun> {
  const pdf = await makeSamplePdf(1, 'faxflow throughput');
  const ids = Array.from({ length: n }, (_, i) => `tp-${run}-${Date.now()}-${i}`);
  const before = await pipe.simStats();
  const sharedActions = async () =>
    sumCounts(await Promise.all(pipe.sharedWorkflowIds.map((id) => countWorkflowRuns(base.client, id))));
  const sharedBefore = actionTotal(await sharedActions());
  const db = base.database.handle.db;
  const cpu0 = await readCpu(db, pipe.simulator.pid);
  const t0 = Date.now();
  await pool(
    ids.map((id, i) => ({ id, i })),
    CONCURRENCY,
    async ({ id, i }) => {
      await pipe.faxClient.startFax({
        to: `+1202555${String(1000 + (i % 9000)).padStart(4, '0')}`,
        documents: [{ bytes: pdf, filename: 'tp.pdf' }],
        idempotencyKey: id,
        policy: { ...DEFAULT_POLICY, pollInitialMs: 1_000, pollMaxMs: 5_000, pollWithWebhooksMs: 60_000 },
      });
    },
  );
  // Completion is awaited as the baseline's is (the workflow's result): a FaxWorkflow returns only
  // after its outcome is recorded in Postgres, which is checked below, off the clock.
  for (const id of ids) await base.client.workflow.getHandle(faxWorkflowId(id)).result();
  const wallMs = Date.now() - t0;
  const cpu = cpuSince(cpu0, await readCpu(db, pipe.simulator.pid));
  const recorded = await db
    .selectFrom('fax_jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(
      'id',
      'in',
      ids.map((id) => faxWorkflowId(id)),
    )
    .where('completed_at', 'is not', null)
    .executeTakeFirstOrThrow();
  if (Number(recorded.n) !== n)
    throw new Error(`${n} faxes finished but ${recorded.n} are recorded as completed`);
  const after = await pipe.simStats();
  const calls =
    Object.values(after.callsByEndpoint).reduce((a, b) => a + b, 0) -
    Object.values(before.callsByEndpoint).reduce((a, b) => a + b, 0);
  const counts = sumCounts(
    (
      await countWorkflows(
        base.client,
        ids.map((id) => faxWorkflowId(id)),
      )
    ).values(),
  );
  return {
    perSecond: n / (wallMs / 1000),
    wallMs,
    actionsPerFax: actionsPerItem(counts, n),
    ringcentralCallsPerFax: calls / n,
    sharedActionsPerFax: (actionTotal(await sharedActions()) - sharedBefore) / n,
    cpuMsPerItem: perItem(cpu, n),
  };
}

async function baselineRun(
  base: BenchBase,
  shape: { activities: number; signals: number; timers: number; afterSignal: number },
  run: number,
  n = N,
) {
  const ids = Array.from({ length: n }, (_, i) => `baseline-${run}-${Date.now()}-${i}`);
  const db = base.database.handle.db;
  const cpu0 = await readCpu(db);
  const t0 = Date.now();
  await pool(ids, CONCURRENCY, async (id) => {
    await base.client.workflow.start<typeof BaselineWorkflow>('BaselineWorkflow', {
      taskQueue: BASELINE_QUEUE,
      workflowId: id,
      args: [{ ...shape, workflowId: id }],
    });
  });
  for (const id of ids) await base.client.workflow.getHandle(id).result();
  const wallMs = Date.now() - t0;
  const cpu = cpuSince(cpu0, await readCpu(db));
  // Off the clock: what the baseline really did, to set beside the fax's counts.
  const counts = sumCounts((await countWorkflows(base.client, ids)).values());
  return {
    perSecond: n / (wallMs / 1000),
    wallMs,
    cpuMsPerItem: perItem(cpu, n),
    actionsPerItem: actionsPerItem(counts, n),
  };
}

const BASELINE_QUEUE = `baseline-${process.pid}`;
/**
 * How long after its activity the baseline's signal is sent: a fax's status signal comes about this
 * long after its send answers (the webhook receiver's notification window, 1 s, as configured
 * above). Sooner, it often came before the workflow had started waiting, and a wait that is over
 * before it begins starts no timer: the baseline then had fewer timers than the fax.
 */
const SIGNAL_AFTER_MS = 1_000;

type CpuProfile = {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
};
type Hot = { fn: string; selfMs: number; share: string };

/** The package (or faxflow's folder, or Node's module) a profile's script URL belongs to. */
function packageOf(url: string): string {
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src\/[^/]+|bench|test)\//.exec(url);
  if (own) return `faxflow ${own[1]}`;
  return url.startsWith('node:') ? url.split('/').slice(0, 2).join('/') : '(native)';
}

/**
 * Self time over the profile, summed by function or by the package a function belongs to, the
 * five largest outside idle, program and GC. Sampled time: a call that is descheduled (a write that
 * wakes a Postgres backend on the same core) keeps being sampled, so `writev` ranks high.
 */
function topFive(profile: CpuProfile, by: 'function' | 'package'): Hot[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  (profile.samples ?? []).forEach((id, i) => {
    const n = byNode.get(id);
    const dt = (profile.timeDeltas?.[i] ?? 0) / 1000;
    total += dt;
    if (!n) return;
    const f = n.callFrame;
    if (/^\((idle|program|garbage collector)\)/.test(f.functionName)) return;
    const key =
      by === 'package'
        ? packageOf(f.url)
        : `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([fn, ms]) => ({ fn, selfMs: Math.round(ms), share: `${((ms / total) * 100).toFixed(1)} %` }));
}

/** The baseline's worker: no-op activities, and a signal from outside a moment after the last one. */
async function startBaselineWorker(base: BenchBase): Promise<Worker> {
  const noop = async () => undefined;
  const baselineActivities: BaselineActivities = {
    noop,
    // The signal comes from outside once the activity has ended, as a fax's status webhook comes
    // (through the reconciler, after RingCentral's notification) once its send has answered.
    async signalSoon(workflowId, count) {
      setTimeout(() => {
        void (async () => {
          for (let i = 0; i < count; i++) await base.client.workflow.getHandle(workflowId).signal('poke');
        })().catch((err: unknown) => console.error(`[throughput] baseline signal failed: ${String(err)}`));
      }, SIGNAL_AFTER_MS);
    },
  };
  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(HERE, 'baseline-workflow.ts'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error },
  });
  return await noteWorkflowThreads(() =>
    Worker.create({
      connection: base.nativeConnection,
      taskQueue: BASELINE_QUEUE,
      workflowBundle: { code: bundle.code },
      activities: baselineActivities,
    }),
  );
}

async function main(): Promise<void> {
  const base = await startBase(log, { temporalStore: STORE });
  // Until the timed part's try/finally below owns them, a failure here must still stop the dev
  // server (and remove its state file) and the pipeline.
  let pipe: Pipeline | undefined;
  let baselineWorker: Worker;
  try {
    pipe = await noteWorkflowThreads(() =>
      startPipeline(base, {
        label: 'throughput',
        timeScale: 0.001,
        rateLimits: false,
        budgets: { Heavy: 100_000, Medium: 100_000, Light: 100_000 },
        budgetWindowMs: 1_000,
        // The production notification window and reconciler coalescing (1 s each).
        webhooks: {},
        // RingCentral's side runs elsewhere in production: its CPU is reported apart.
        simulatorProcess: true,
      }),
    );
    baselineWorker = await startBaselineWorker(base);
  } catch (err) {
    await pipe?.stop();
    await base.close();
    throw err;
  }
  const baselineRunning = baselineWorker.run();
  const session = new Session();
  session.connect();
  const faxRuns: FaxRun[] = [];
  const baseRuns: Awaited<ReturnType<typeof baselineRun>>[] = [];
  let hottest: Hot[] = [];
  let hottestPackages: Hot[] = [];
  try {
    // The CPU profile comes from a run of its own, not timed: the profiler costs this process about
    // half again its CPU, which would slow the run it watched against the baseline's. It also warms
    // up both pipelines' code before the timed runs.
    const warmUp = Math.min(N, PROFILE_N);
    log(`profile (not timed): ${warmUp} faxes through faxflow`);
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await faxflowRun(base, pipe, 0, warmUp);
    const { profile } = await session.post('Profiler.stop');
    hottest = topFive(profile as CpuProfile, 'function');
    hottestPackages = topFive(profile as CpuProfile, 'package');
    if (process.env.TP_PROFILE_OUT) await writeFile(process.env.TP_PROFILE_OUT, JSON.stringify(profile));
    await baselineRun(base, { activities: 4, signals: 1, timers: 2, afterSignal: 2 }, 0, warmUp);
    for (let run = 1; run <= RUNS; run++) {
      log(`run ${run}/${RUNS}: ${N} faxes through faxflow`);
      const r = await faxflowRun(base, pipe, run);
      faxRuns.push(r);
      const shape = {
        activities: Math.round(r.actionsPerFax.activities),
        signals: Math.max(1, Math.round(r.actionsPerFax.signals)),
        timers: Math.max(1, Math.round(r.actionsPerFax.timers)),
        afterSignal: Math.round(r.actionsPerFax.activitiesAfterSignal),
      };
      log(
        `run ${run}/${RUNS}: ${N} baseline workflows (${shape.activities} activities, ${shape.timers} timers, ${shape.signals} signal, ${shape.afterSignal} activities after it)`,
      );
      const b = await baselineRun(base, shape, run);
      baseRuns.push(b);
      // The ratio means something only while the baseline really did what the fax did.
      const did = b.actionsPerItem;
      const off = (
        [
          ['activities', did.activities, shape.activities],
          ['timers', did.timers, shape.timers],
          ['signals', did.signals, shape.signals],
          ['activities after the signal', did.activitiesAfterSignal, shape.afterSignal],
        ] as const
      ).filter(([, got, want]) => Math.abs(got - want) > 0.05);
      for (const [what, got, want] of off)
        log(
          `WARNING: the baseline did ${fmt(got)} ${what} per item, not ${want} like the fax: its ratio is off`,
        );
    }
  } finally {
    session.disconnect();
    baselineWorker.shutdown();
    await baselineRunning;
    await pipe.stop();
    await base.close();
  }
  const fax = median(faxRuns.map((r) => r.perSecond));
  const bare = median(baseRuns.map((r) => r.perSecond));
  const a = faxRuns[0]!.actionsPerFax;
  const result = {
    n: N,
    runs: RUNS,
    temporalStore: STORE,
    faxflowPerSecond: Number(fax.toFixed(2)),
    baselinePerSecond: Number(bare.toFixed(2)),
    ratio: Number((fax / bare).toFixed(2)),
    actionsPerFax: a,
    baselineActionsPerItem: baseRuns[0]!.actionsPerItem,
    ringcentralCallsPerFax: Number(median(faxRuns.map((r) => r.ringcentralCallsPerFax)).toFixed(2)),
    sharedActionsPerFax: Number(median(faxRuns.map((r) => r.sharedActionsPerFax)).toFixed(2)),
    hottest,
    hottestPackages,
    all: { faxflow: faxRuns, baseline: baseRuns },
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'cpu'}`,
    at: new Date().toISOString(),
  };
  printTable(
    `throughput: ${N} one-page faxes, median of ${RUNS} runs, the Temporal server's state ${STORE === 'file' ? 'on disk' : 'in memory'}`,
    ['', 'per second', 'ratio'],
    [
      ['faxflow (whole pipeline)', fmt(fax), fmt(fax / bare)],
      ['bare baseline workflow', fmt(bare), '1.00'],
    ],
  );
  const b = baseRuns[0]!.actionsPerItem;
  printTable(
    'Temporal actions per item (faxflow: per delivered fax; the baseline follows its shape)',
    [
      '',
      'total',
      'activities',
      'of them after the signal',
      'timers',
      'signals',
      'upserts',
      'shared workflows',
      'RingCentral calls',
    ],
    [
      [
        'faxflow',
        fmt(a.total),
        fmt(a.activities),
        fmt(a.activitiesAfterSignal),
        fmt(a.timers),
        fmt(a.signals),
        fmt(a.upserts),
        fmt(result.sharedActionsPerFax),
        fmt(result.ringcentralCallsPerFax),
      ],
      [
        'baseline',
        fmt(b.total),
        fmt(b.activities),
        fmt(b.activitiesAfterSignal),
        fmt(b.timers),
        fmt(b.signals),
        fmt(b.upserts),
        '-',
        '-',
      ],
    ],
  );
  const cpuMedian = (
    runs: { cpuMsPerItem: CpuReading }[],
    k: keyof Omit<CpuReading, 'backends' | 'threads' | 'tids'>,
  ) => median(runs.map((r) => r.cpuMsPerItem[k]));
  printTable(
    'CPU ms per item (median), by party: this process (workers, client, webhook receiver), the Temporal server, PostgreSQL, and the RingCentral simulator (its own process)',
    [
      '',
      'this process',
      'Temporal server',
      'PostgreSQL',
      'simulator',
      'total',
      'total without the simulator',
    ],
    [faxRuns, baseRuns].map((runs, i) => {
      const self = cpuMedian(runs, 'self');
      const temporal = cpuMedian(runs, 'temporal');
      const postgres = cpuMedian(runs, 'postgres');
      const simulator = cpuMedian(runs, 'simulator');
      return [
        i === 0 ? 'faxflow' : 'baseline',
        self,
        temporal,
        postgres,
        simulator,
        self + temporal + postgres + simulator,
        self + temporal + postgres,
      ];
    }),
  );
  const threadMedian = (runs: { cpuMsPerItem: CpuReading }[], k: keyof ThreadCpu) =>
    median(runs.map((r) => r.cpuMsPerItem.threads?.[k] ?? 0));
  if (faxRuns[0]?.cpuMsPerItem.threads)
    printTable(
      "this process by thread, CPU ms per item (median): main (activities, client, webhook receiver), the SDK's workflow threads, its Rust core, and V8's and libuv's helper threads (garbage collection, compiling, file system)",
      ['', 'main', 'workflow threads', 'Rust core', 'helpers'],
      [faxRuns, baseRuns].map((runs, i) => [
        i === 0 ? 'faxflow' : 'baseline',
        threadMedian(runs, 'main'),
        threadMedian(runs, 'workflow'),
        threadMedian(runs, 'rust'),
        threadMedian(runs, 'helpers'),
      ]),
    );
  printTable(
    'where the time goes (this process: workers, client, API; the profiled warm-up run)',
    ['function', 'self ms', 'share'],
    hottest.map((h) => [h.fn, h.selfMs, h.share]),
  );
  printTable(
    'the same by package (self time of its functions)',
    ['package', 'self ms', 'share'],
    hottestPackages.map((h) => [h.fn, h.selfMs, h.share]),
  );
  await mkdir(RESULTS, { recursive: true });
  await writeFile(path.join(RESULTS, 'throughput.json'), `${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
