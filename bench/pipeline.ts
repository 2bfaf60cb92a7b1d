/**
 * End-to-end pipeline benchmarks: FaxWorkflow on a Temporal dev server, PostgreSQL, the SDK adapter
 * and the RingCentral simulator over loopback, with RingCentral's durations scaled down.
 *
 *   npx tsx bench/pipeline.ts happy|rate|webhooks|all [--time-scale 0.005] [--n N] [--coalesce-ms 1000]
 *
 * happy     N=20 faxes, polling only: Temporal actions, history events and RingCentral calls per fax
 * rate      100 faxes at once, Heavy budget 10 per scaled window, simulator rate limits on
 * webhooks  200 faxes with webhooks (receiver + subscription + reconciler), then 200 polling only
 *
 * Needs PostgreSQL at 127.0.0.1:5432 with trust auth (or BENCH_ADMIN_DATABASE_URL) and the `temporal`
 * CLI on PATH (or TEMPORAL_CLI_PATH). Creates and drops a scratch database. See docs/benchmarks.md.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_BUDGETS, type RateGroup } from '../src/ringcentral/rate-budgets';
import { makeSamplePdf } from '../src/pdf/sample-document';
import { faxWorkflowId } from '../src/contracts/workflow-ids';
import { DEFAULT_POLICY, type FaxPolicy } from '../src/contracts/workflow-types';
import {
  benchStatusModel,
  startBase,
  startPipeline,
  waitFor,
  type BenchBase,
  type Pipeline,
} from './support/bench-stack';
import {
  actionTotal,
  countWorkflowRuns,
  countWorkflows,
  diffCounts,
  fmt,
  percentile,
  printTable,
  stats,
  sumCounts,
  type ActionCounts,
} from './support/measure';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'time-scale': { type: 'string' },
    n: { type: 'string' },
    'coalesce-ms': { type: 'string' },
  },
});
const SCENARIOS = ['happy', 'rate', 'webhooks', 'all'] as const;
type Scenario = (typeof SCENARIOS)[number];
const scenario = positionals[0] as Scenario | undefined;
if (!scenario || !SCENARIOS.includes(scenario)) {
  console.error(`usage: npx tsx bench/pipeline.ts ${SCENARIOS.join('|')} [--time-scale X] [--n N]`);
  process.exit(2);
}
/**
 * A fax's successful end: Delivered where the account reports delivery (the default here), Sent on
 * a sent-final account (FAXFLOW_BENCH_STATUS_MODEL=sent-final). The tables say "Delivered" for both.
 */
const FINAL_SUCCESS = benchStatusModel() === 'sent-final' ? 'Sent' : 'Delivered';
const N_OVERRIDE = values.n !== undefined ? Number(values.n) : undefined;
const COALESCE_MS = values['coalesce-ms'] !== undefined ? Number(values['coalesce-ms']) : undefined;

interface Timing {
  scale: number;
  /** RingCentral's rate-limit window (60 s) as the simulator runs it. */
  simWindowMs: number;
  /** Our budgets' window: 61 s in production (src/workers/dependencies.ts), scaled the same way. */
  budgetWindowMs: number;
  policy: FaxPolicy;
}

/** Everything RingCentral-timed, scaled: the simulator's clock, both windows, DEFAULT_POLICY's durations. */
function timing(dflt: number): Timing {
  const scale = values['time-scale'] !== undefined ? Number(values['time-scale']) : dflt;
  if (!(scale > 0 && scale <= 1)) throw new Error('--time-scale must be in (0, 1]');
  const s = (ms: number) => Math.max(1, Math.round(ms * scale));
  return {
    scale,
    simWindowMs: 60_000 * scale,
    budgetWindowMs: 61_000 * scale,
    policy: {
      ...DEFAULT_POLICY,
      redialBackoffMs: s(DEFAULT_POLICY.redialBackoffMs),
      pollInitialMs: s(DEFAULT_POLICY.pollInitialMs),
      pollMaxMs: s(DEFAULT_POLICY.pollMaxMs),
      sentQuietPeriodMs: s(DEFAULT_POLICY.sentQuietPeriodMs),
      killAfterMs: s(DEFAULT_POLICY.killAfterMs),
      pollWithWebhooksMs: s(DEFAULT_POLICY.pollWithWebhooksMs),
      sendRetryInitialMs: s(DEFAULT_POLICY.sendRetryInitialMs),
    },
  };
}

const log = (line: string): void =>
  console.error(`[bench ${new Date().toISOString().slice(11, 23)}] ${line}`);

function printSetup(t: Timing, extra: [string, string][] = []): void {
  const POLICY = t.policy;
  printTable(
    `Setup (time scale ${t.scale}: 1 simulated minute = ${fmt(t.simWindowMs)} ms)`,
    ['setting', 'value'],
    [
      ['FaxPolicy (DEFAULT_POLICY x time scale)', ''],
      [
        '  pollInitialMs / pollGrowth / pollMaxMs',
        `${POLICY.pollInitialMs} / ${POLICY.pollGrowth} / ${POLICY.pollMaxMs}`,
      ],
      ['  pollWithWebhooksMs', String(POLICY.pollWithWebhooksMs)],
      ['  sentQuietPeriodMs / killAfterMs', `${POLICY.sentQuietPeriodMs} / ${POLICY.killAfterMs}`],
      ['  redialBackoffMs / sendRetryInitialMs', `${POLICY.redialBackoffMs} / ${POLICY.sendRetryInitialMs}`],
      ['simulator rate-limit window (60 s scaled)', `${fmt(t.simWindowMs)} ms`],
      ['our budget window (61 s scaled)', `${fmt(t.budgetWindowMs)} ms`],
      ['1-page fax: render + transmit + deliver', `${fmt((2_000 + 60_000 + 5_000) * t.scale)} ms`],
      ...extra,
    ],
  );
}

// ---------------------------------------------------------------------------------------------
// One batch of faxes through one pipeline, and everything we measure about it

interface BatchOptions {
  n: number;
  policy: FaxPolicy;
  /** Pause between two submissions (0: as fast as `submitConcurrency` allows). */
  submitGapMs: number;
  submitConcurrency: number;
  timeoutMs: number;
  /** Wait after the last fax finished so trailing reconciles/polls are counted. */
  settleMs: number;
}

interface FaxOutcome {
  jobId: string;
  workflowId: string;
  recipient: string;
  status: string;
  messageId: string | null;
  /** Simulator: when the fax became Delivered (its own status history). */
  simDeliveredAt?: number;
  /** Postgres: the first fax_events row with status Delivered. */
  pgDeliveredAt?: number;
  pgDeliveredSource?: string;
}

interface BatchResult {
  n: number;
  wallMs: number;
  submitMs: number;
  outcomes: FaxOutcome[];
  delivered: FaxOutcome[];
  /** RingCentral calls during the batch (after - before), by endpoint. */
  calls: Record<string, number>;
  callsByGroup: Record<string, number>;
  statusCodes: Record<string, number>;
  rateLimited429: number;
  webhooks: Record<string, number>;
  /** Setup calls before the batch (login, subscription), by endpoint. */
  setupCalls: Record<string, number>;
  perFax: Map<string, ActionCounts>;
  shared: ActionCounts | undefined;
  simFaxCreatedAt: number[];
  /** How many /_sim/faxes entries each submitted number has. */
  perNumber: Map<string, number>;
  budgetRefusals: Record<RateGroup, number>;
}

function numbers(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `+1202555${String(1000 + i).padStart(4, '0')}`);
}

async function runBatch(base: BenchBase, pipe: Pipeline, opts: BatchOptions): Promise<BatchResult> {
  const db = base.database.handle.db;
  const pdf = await makeSamplePdf(1, 'faxflow benchmark');
  const before = await pipe.simStats();
  const refusedBefore = Object.fromEntries(
    Object.entries(pipe.budgetCounts).map(([g, c]) => [g, c.refused]),
  ) as Record<RateGroup, number>;
  const recipients = numbers(opts.n);
  const run = `${pipe.label}-${Date.now()}`;
  const jobIds = recipients.map((_, i) => `${run}-${i + 1}`);

  log(`${pipe.label}: submitting ${opts.n} faxes`);
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: opts.submitConcurrency }, async () => {
      while (next < recipients.length) {
        const i = next++;
        await pipe.faxClient.startFax({
          to: recipients[i]!,
          documents: [{ bytes: pdf, filename: 'bench.pdf' }],
          idempotencyKey: jobIds[i]!,
          policy: opts.policy,
        });
        if (opts.submitGapMs > 0) await new Promise((r) => setTimeout(r, opts.submitGapMs));
      }
    }),
  );
  const submitMs = Date.now() - t0;

  let lastLog = Date.now();
  let finishedAt = Date.now();
  await waitFor(`${opts.n} finished jobs`, opts.timeoutMs, async () => {
    const row = await db
      .selectFrom('fax_jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('connection_id', '=', pipe.credentialKey)
      .where('completed_at', 'is not', null)
      .executeTakeFirstOrThrow();
    if (Date.now() - lastLog > 5_000) {
      lastLog = Date.now();
      log(`${pipe.label}: ${row.n}/${opts.n} finished`);
    }
    finishedAt = Date.now();
    return Number(row.n) >= opts.n;
  });
  const wallMs = finishedAt - t0;
  log(`${pipe.label}: all ${opts.n} finished in ${wallMs} ms; collecting figures`);
  // The workflows' own completion follows the recorded status by a task or two.
  const workflowIds = jobIds.map((id) => faxWorkflowId(id));
  for (const id of workflowIds) await base.client.workflow.getHandle(id).result();
  await new Promise((r) => setTimeout(r, opts.settleMs));
  const after = await pipe.simStats();

  const jobs = await db
    .selectFrom('fax_jobs')
    .select(['id', 'job_key', 'workflow_id', 'recipient', 'status', 'message_id'])
    .where('id', 'in', workflowIds)
    .execute();
  const events = await db
    .selectFrom('fax_events')
    .select(['job_id', 'observed_at', 'source'])
    .where('job_id', 'in', workflowIds)
    .where('status', '=', FINAL_SUCCESS)
    .orderBy('observed_at')
    .orderBy('id')
    .execute();
  const firstDelivered = new Map<string, { at: number; source: string }>();
  for (const e of events)
    if (!firstDelivered.has(e.job_id))
      firstDelivered.set(e.job_id, { at: e.observed_at.getTime(), source: e.source });
  const simFaxes = await pipe.simFaxes();
  const simById = new Map(simFaxes.map((f) => [String(f.id), f]));
  const perNumber = new Map<string, number>(recipients.map((r) => [r, 0]));
  for (const f of simFaxes)
    for (const r of f.recipients) perNumber.set(r.phoneNumber, (perNumber.get(r.phoneNumber) ?? 0) + 1);

  const outcomes: FaxOutcome[] = jobs.map((j) => {
    const sim = j.message_id ? simById.get(j.message_id) : undefined;
    const simDelivered = sim?.history.find((h) => h.status === FINAL_SUCCESS);
    const pg = firstDelivered.get(j.id);
    return {
      jobId: j.job_key,
      workflowId: j.workflow_id,
      recipient: j.recipient,
      status: j.status,
      messageId: j.message_id,
      ...(simDelivered && { simDeliveredAt: Date.parse(simDelivered.at) }),
      ...(pg && { pgDeliveredAt: pg.at, pgDeliveredSource: pg.source }),
    };
  });

  if (process.env.BENCH_TRACE) {
    await trace(base, outcomes[0]!, simById, t0);
    for (const id of pipe.sharedWorkflowIds) await traceShared(base, id, t0);
  }
  const perFax = await countWorkflows(base.client, workflowIds);
  let shared: ActionCounts | undefined;
  if (pipe.sharedWorkflowIds.length > 0) {
    shared = sumCounts(
      await Promise.all(pipe.sharedWorkflowIds.map((id) => countWorkflowRuns(base.client, id))),
    );
  }
  return {
    n: opts.n,
    wallMs,
    submitMs,
    outcomes,
    delivered: outcomes.filter((o) => o.status === FINAL_SUCCESS),
    calls: diffCounts(after.callsByEndpoint, before.callsByEndpoint),
    callsByGroup: diffCounts(after.callsByGroup, before.callsByGroup),
    statusCodes: diffCounts(after.statusCodes, before.statusCodes),
    rateLimited429: after.rateLimited429 - before.rateLimited429,
    webhooks: diffCounts(after.webhooks, before.webhooks),
    setupCalls: before.callsByEndpoint,
    perFax,
    shared,
    simFaxCreatedAt: simFaxes.map((f) => Date.parse(f.createdAt)).sort((a, b) => a - b),
    perNumber,
    budgetRefusals: Object.fromEntries(
      Object.entries(pipe.budgetCounts).map(([g, c]) => [g, c.refused - refusedBefore[g as RateGroup]]),
    ) as Record<RateGroup, number>,
  };
}

/** BENCH_TRACE=1: one fax's timeline (simulator, Postgres, Temporal history), ms after the first submit. */
async function trace(
  base: BenchBase,
  o: FaxOutcome,
  simById: Map<string, { history: { status: string; at: string }[] }>,
  t0: number,
): Promise<void> {
  const lines: [number, string][] = [];
  for (const h of simById.get(o.messageId ?? '')?.history ?? [])
    lines.push([Date.parse(h.at), `sim ${h.status}`]);
  const events = await base.database.handle.db
    .selectFrom('fax_events')
    .select(['status', 'source', 'observed_at'])
    .where('job_id', '=', faxWorkflowId(o.jobId))
    .execute();
  for (const e of events) lines.push([e.observed_at.getTime(), `pg ${e.status} (${e.source})`]);
  const history = await base.client.workflow.getHandle(o.workflowId).fetchHistory();
  for (const e of history.events ?? []) {
    const t = e.eventTime;
    const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
    const kind = Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '?';
    lines.push([ms, `wf ${kind.replace('EventAttributes', '')}`]);
  }
  lines.sort((a, b) => a[0] - b[0]);
  console.error(`trace ${o.jobId}:`);
  for (const [ms, what] of lines) console.error(`  +${String(ms - t0).padStart(6)} ms  ${what}`);
}

/** BENCH_TRACE=1: a shared workflow's history, signals counted per second, other events listed. */
async function traceShared(base: BenchBase, workflowId: string, t0: number): Promise<void> {
  const history = await base.client.workflow.getHandle(workflowId).fetchHistory();
  console.error(`trace ${workflowId}:`);
  let signals = 0;
  let wfts = 0;
  for (const e of history.events ?? []) {
    const t = e.eventTime;
    const ms = t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : NaN;
    const kind = (Object.keys(e).find((k) => k.endsWith('EventAttributes')) ?? '?').replace(
      'EventAttributes',
      '',
    );
    if (kind === 'workflowExecutionSignaled') signals++;
    else if (kind.startsWith('workflowTask')) {
      wfts++;
      if (kind === 'workflowTaskFailed' || kind === 'workflowTaskTimedOut')
        console.error(`  +${String(ms - t0).padStart(6)} ms  ${kind}`);
    } else {
      console.error(
        `  +${String(ms - t0).padStart(6)} ms  ${kind} (signals so far ${signals}, wft events ${wfts})`,
      );
    }
  }
}

const sum = (r: Record<string, number>, keep: (k: string) => boolean = () => true): number =>
  Object.entries(r)
    .filter(([k]) => keep(k))
    .reduce((a, [, v]) => a + v, 0);
const isOAuth = (endpoint: string): boolean => endpoint.includes('/restapi/oauth/');
const shortEndpoint = (e: string): string => e.replace('/restapi/v1.0/account/~/extension/~', '...');

function latencies(r: BatchResult): { values: number[]; sources: Record<string, number> } {
  const values: number[] = [];
  const sources: Record<string, number> = {};
  for (const o of r.delivered) {
    if (o.simDeliveredAt === undefined || o.pgDeliveredAt === undefined) continue;
    values.push(o.pgDeliveredAt - o.simDeliveredAt);
    sources[o.pgDeliveredSource!] = (sources[o.pgDeliveredSource!] ?? 0) + 1;
  }
  return { values: values.sort((a, b) => a - b), sources };
}

/** Max number of `times` inside any window of `windowMs` (sliding, inclusive start). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** The simulator's own limiter replayed over the accepted sends: the most any of its fixed windows saw. */
function maxInSimulatorWindows(times: number[], windowMs: number): number {
  let best = 0;
  let start = -Infinity;
  let count = 0;
  for (const at of times) {
    if (at - start >= windowMs) {
      start = at;
      count = 0;
    }
    best = Math.max(best, ++count);
  }
  return best;
}

function exactlyOnce(r: BatchResult): string {
  const counts = [...r.perNumber.values()];
  const once = counts.filter((c) => c === 1).length;
  const dup = counts.filter((c) => c > 1).length;
  const none = counts.filter((c) => c === 0).length;
  return `${once}/${r.n} numbers sent once (duplicates: ${dup}, never sent: ${none})`;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

const BUDGETS: Record<RateGroup, number> = { ...DEFAULT_BUDGETS };

async function happy(base: BenchBase): Promise<void> {
  const n = N_OVERRIDE ?? 20;
  const t = timing(0.005);
  printSetup(t, [
    ['mode', 'polling only (no API, no webhooks)'],
    ['faxes', `${n} x 1 page, distinct +1202555xxxx numbers, one every 50 ms`],
    [
      'budgets (per scaled window)',
      `Heavy ${BUDGETS.Heavy}, Medium ${BUDGETS.Medium}, Light ${BUDGETS.Light}`,
    ],
    ['simulator rate limits', 'on'],
  ]);
  const pipe = await startPipeline(base, {
    label: 'happy',
    timeScale: t.scale,
    rateLimits: true,
    budgets: BUDGETS,
    budgetWindowMs: t.budgetWindowMs,
  });
  try {
    const r = await runBatch(base, pipe, {
      n,
      policy: t.policy,
      submitGapMs: 50,
      submitConcurrency: 1,
      timeoutMs: 120_000,
      settleMs: 200,
    });
    const d = r.delivered;
    const per = d.map((o) => r.perFax.get(o.workflowId)!);
    const row = (name: string, pick: (c: ActionCounts) => number): (string | number)[] => {
      const s = stats(per.map(pick));
      return [name, s.mean, s.min, s.max];
    };
    printTable(
      `happy: Temporal actions per delivered fax (${d.length}/${r.n} delivered, wall ${fmt(r.wallMs / 1000)} s)`,
      ['per fax', 'mean', 'min', 'max'],
      [
        row('workflow start', (c) => c.start),
        row('ActivityTaskScheduled', (c) => c.activities),
        ...Object.keys(sumCounts(per).byActivity)
          .sort()
          .map((a) => row(`  of which ${a}`, (c) => c.byActivity[a] ?? 0)),
        row('TimerStarted', (c) => c.timers),
        row('WorkflowExecutionSignaled', (c) => c.signals),
        row('UpsertWorkflowSearchAttributes', (c) => c.upserts),
        row('= Temporal actions', actionTotal),
        row('(activity retries, billed, no event)', (c) => c.activityRetries),
        row('history events', (c) => c.events),
      ],
    );
    const apiCalls = sum(r.calls, (k) => !isOAuth(k));
    printTable(
      'happy: RingCentral API calls (simulator /_sim/stats, during the batch)',
      ['endpoint', 'calls', 'per delivered fax'],
      [
        ...Object.entries(r.calls).map(([k, v]) => [shortEndpoint(k), v, v / d.length]),
        ['all calls excluding OAuth and /_sim', apiCalls, apiCalls / d.length],
        ['all calls including OAuth', sum(r.calls), sum(r.calls) / d.length],
        ['OAuth calls before the batch (login)', sum(r.setupCalls, isOAuth), '-'],
        ['429 from the simulator', r.rateLimited429, '-'],
        [
          'refusals by our own budgets (Heavy/Medium/Light)',
          `${r.budgetRefusals.Heavy}/${r.budgetRefusals.Medium}/${r.budgetRefusals.Light}`,
          '-',
        ],
      ],
    );
    const lat = latencies(r);
    printTable(
      'happy: latency simulator Delivered -> fax_events Delivered (ms)',
      ['p50', 'p99', 'max', 'source'],
      [
        [
          percentile(lat.values, 0.5),
          percentile(lat.values, 0.99),
          percentile(lat.values, 1),
          JSON.stringify(lat.sources),
        ],
      ],
    );
    if (d.length !== r.n) throw new Error(`only ${d.length}/${r.n} faxes were Delivered`);
  } finally {
    await pipe.stop();
  }
}

async function rate(base: BenchBase): Promise<void> {
  const n = N_OVERRIDE ?? 100;
  const budgets = { ...BUDGETS, Heavy: 10 };
  // At 0.005 the budget (33 sends/s) is not what limits 2 cores: see docs/benchmarks.md.
  const t = timing(0.05);
  printSetup(t, [
    ['mode', 'polling only'],
    ['faxes', `${n} x 1 page, distinct numbers, all submitted at once`],
    [
      'budgets (per scaled window)',
      `Heavy ${budgets.Heavy}, Medium ${budgets.Medium}, Light ${budgets.Light}`,
    ],
    ['simulator rate limits', 'on (Heavy 10 per scaled 60 s)'],
  ]);
  const pipe = await startPipeline(base, {
    label: 'rate',
    timeScale: t.scale,
    rateLimits: true,
    budgets,
    budgetWindowMs: t.budgetWindowMs,
  });
  try {
    const r = await runBatch(base, pipe, {
      n,
      policy: t.policy,
      submitGapMs: 0,
      submitConcurrency: 8,
      timeoutMs: 180_000,
      settleMs: 200,
    });
    const sends = r.simFaxCreatedAt;
    const spanMs = sends.length > 1 ? sends[sends.length - 1]! - sends[0]! : NaN;
    // Sends after the first window, spread over the windows that followed it.
    const achieved = sends.length > 1 ? ((sends.length - 1) / spanMs) * t.simWindowMs : NaN;
    const sendRetries = sumCounts(r.perFax.values()).activityRetries;
    printTable(
      `rate: ${n} faxes queued at once, Heavy budget ${budgets.Heavy} per ${fmt(t.budgetWindowMs)} ms`,
      ['figure', 'value'],
      [
        ['faxes Delivered', `${r.delivered.length}/${r.n}`],
        ['total wall time (first submit -> last job final)', `${fmt(r.wallMs / 1000)} s`],
        ['  of which submitting', `${fmt(r.submitMs / 1000)} s`],
        ['fax sends accepted by the simulator', sends.length],
        ['first -> last accepted send', `${fmt(spanMs)} ms = ${fmt(spanMs / t.simWindowMs)} windows`],
        [
          `achieved sends per ${fmt(t.simWindowMs)} ms window (mean)`,
          `${fmt(achieved)} (budget ${budgets.Heavy})`,
        ],
        [
          `max sends in any ${fmt(t.simWindowMs)} ms window`,
          `${maxInWindow(sends, t.simWindowMs)} (limit 10)`,
        ],
        [
          `max sends in one of the simulator's windows (replayed)`,
          `${maxInSimulatorWindows(sends, t.simWindowMs)} (limit 10)`,
        ],
        [
          `ideal wall time for the sends alone`,
          `>= ${fmt(Math.ceil(n / budgets.Heavy - 1) * t.budgetWindowMs)} ms`,
        ],
        ['429s returned by the simulator', r.rateLimited429],
        ['Heavy calls reaching the simulator', r.callsByGroup.Heavy ?? 0],
        ['refusals by our Heavy budget (no request sent)', r.budgetRefusals.Heavy],
        ['activity retries (all activities)', sendRetries],
        ['exactly once (/_sim/faxes per number)', exactlyOnce(r)],
      ],
    );
    if (r.delivered.length !== r.n) throw new Error(`only ${r.delivered.length}/${r.n} faxes were Delivered`);
  } finally {
    await pipe.stop();
  }
}

async function webhooks(base: BenchBase): Promise<void> {
  const n = N_OVERRIDE ?? 200;
  const coalesceMs = COALESCE_MS ?? 1_000;
  // 0.05: 200 faxes at the Heavy budget take ~60 s per mode. At 0.005 the send rate is 200x
  // RingCentral's real one and the 2 cores saturate (see docs/benchmarks.md).
  const t = timing(0.05);
  printSetup(t, [
    ['faxes per mode', `${n} x 1 page, distinct numbers, all submitted at once`],
    [
      'budgets (per scaled window)',
      `Heavy ${BUDGETS.Heavy}, Medium ${BUDGETS.Medium}, Light ${BUDGETS.Light}`,
    ],
    ['simulator rate limits', 'on'],
    [
      'webhook mode',
      `API + receiver + SubscriptionWorkflow; ReconcileWorkflow coalesceMs ${coalesceMs} (real ms, not scaled)`,
    ],
    ['webhook health window', '10 min (default, not scaled)'],
  ]);
  const results: { mode: string; r: BatchResult }[] = [];
  for (const mode of ['webhook', 'polling'] as const) {
    const pipe = await startPipeline(base, {
      label: mode,
      timeScale: t.scale,
      rateLimits: true,
      budgets: BUDGETS,
      budgetWindowMs: t.budgetWindowMs,
      ...(mode === 'webhook' && { webhooks: { coalesceMs } }),
    });
    try {
      const r = await runBatch(base, pipe, {
        n,
        policy: t.policy,
        submitGapMs: 0,
        submitConcurrency: 8,
        timeoutMs: 180_000,
        settleMs: mode === 'webhook' ? coalesceMs + 1_000 : 200,
      });
      results.push({ mode, r });
    } finally {
      await pipe.stop();
    }
  }
  const cols = results.map((x) => x.mode);
  const each = (f: (r: BatchResult) => string | number) => results.map((x) => f(x.r));
  const per = (r: BatchResult) => r.delivered.map((o) => r.perFax.get(o.workflowId)!);
  const faxActions = (r: BatchResult) => sumCounts(per(r));
  const lat = new Map(results.map((x) => [x.r, latencies(x.r)]));
  const apiCalls = (r: BatchResult) => sum(r.calls, (k) => !isOAuth(k));
  const listCalls = (r: BatchResult) =>
    sum(r.calls, (k) => k.startsWith('GET') && k.endsWith('/message-store'));
  const rows: (string | number)[][] = [
    ['faxes Delivered', ...each((r) => `${r.delivered.length}/${r.n}`)],
    ['wall time, first submit -> last job final (s)', ...each((r) => r.wallMs / 1000)],
    ['RingCentral API calls per delivered fax (no OAuth)', ...each((r) => apiCalls(r) / r.delivered.length)],
    ['  send (POST .../fax)', ...each((r) => sum(r.calls, (k) => k.endsWith('/fax')) / r.delivered.length)],
    [
      '  get message (GET .../message-store/{id})',
      ...each((r) => sum(r.calls, (k) => k.endsWith('/{id}')) / r.delivered.length),
    ],
    ['  list (GET .../message-store)', ...each((r) => listCalls(r) / r.delivered.length)],
    ['  list calls in all', ...each(listCalls)],
    [
      '  other (subscription, ...)',
      ...each(
        (r) =>
          (apiCalls(r) - sum(r.calls, (k) => k.endsWith('/fax') || k.includes('/message-store'))) /
          r.delivered.length,
      ),
    ],
    ['RingCentral calls per delivered fax incl. OAuth', ...each((r) => sum(r.calls) / r.delivered.length)],
    ['429s from the simulator', ...each((r) => r.rateLimited429)],
    [
      'our budget refusals H/M/L',
      ...each((r) => `${r.budgetRefusals.Heavy}/${r.budgetRefusals.Medium}/${r.budgetRefusals.Light}`),
    ],
    ['webhooks delivered by the simulator', ...each((r) => r.webhooks.delivered ?? 0)],
    [
      'Temporal actions per delivered fax (FaxWorkflow)',
      ...each((r) => actionTotal(faxActions(r)) / r.delivered.length),
    ],
    [
      '  start / activities / timers',
      ...each((r) => {
        const c = faxActions(r);
        const k = r.delivered.length;
        return `${fmt(c.start / k)} / ${fmt(c.activities / k)} / ${fmt(c.timers / k)}`;
      }),
    ],
    [
      '  signals / upserts',
      ...each((r) => {
        const c = faxActions(r);
        const k = r.delivered.length;
        return `${fmt(c.signals / k)} / ${fmt(c.upserts / k)}`;
      }),
    ],
    [
      '  activity retries per fax (billed, no event)',
      ...each((r) => faxActions(r).activityRetries / r.delivered.length),
    ],
    [
      'shared workflows (subscription + reconcile) actions',
      ...each((r) => (r.shared ? actionTotal(r.shared) : 0)),
    ],
    [
      'Temporal actions per delivered fax incl. shared',
      ...each(
        (r) => (actionTotal(faxActions(r)) + (r.shared ? actionTotal(r.shared) : 0)) / r.delivered.length,
      ),
    ],
    ['history events per fax (FaxWorkflow)', ...each((r) => faxActions(r).events / r.delivered.length)],
    ['latency sim Delivered -> Postgres, p50 (ms)', ...each((r) => percentile(lat.get(r)!.values, 0.5))],
    ['latency p99 (ms)', ...each((r) => percentile(lat.get(r)!.values, 0.99))],
    ['latency max (ms)', ...each((r) => percentile(lat.get(r)!.values, 1))],
    ['Delivered first recorded by', ...each((r) => JSON.stringify(lat.get(r)!.sources))],
    ['exactly once', ...each(exactlyOnce)],
  ];
  printTable(`webhooks: ${n} faxes per mode`, ['figure', ...cols], rows);
  for (const { mode, r } of results)
    if (r.delivered.length !== r.n) throw new Error(`${mode}: only ${r.delivered.length}/${r.n} delivered`);
}

// ---------------------------------------------------------------------------------------------

let base: BenchBase | undefined;
let exitCode = 0;
const started = Date.now();
const onSignal = (signal: NodeJS.Signals): void => {
  log(`${signal}: cleaning up`);
  void (base?.close() ?? Promise.resolve()).finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
// A crash (e.g. an unhandled 'error' event) must not orphan the Temporal dev server or the database.
process.once('uncaughtException', (err) => {
  console.error(err);
  void (base?.close() ?? Promise.resolve()).finally(() => process.exit(1));
});
try {
  base = await startBase(log);
  const plan: Exclude<Scenario, 'all'>[] = scenario === 'all' ? ['happy', 'rate', 'webhooks'] : [scenario];
  for (const s of plan) {
    console.log(`\n=== ${s} ===`);
    const t = Date.now();
    await { happy, rate, webhooks }[s](base);
    log(`${s} took ${fmt((Date.now() - t) / 1000)} s`);
  }
} catch (err) {
  exitCode = 1;
  console.error(err);
} finally {
  await base?.close();
  log(`done in ${fmt((Date.now() - started) / 1000)} s`);
}
// The SDK's native runtime keeps the event loop alive after its connections closed.
process.exit(exitCode);
