/**
 * `npm run chaos [-- --size ci|full] [--scenario NAME ...] [--jobs N] [--seed N]
 *   [--status-model sent-final|delivery-reports|both]`
 *
 * Runs each scenario against a fresh production shape (separate processes), prints one line per
 * scenario (submitted / final / lost / sent twice / wrong final status / time to recover), writes
 * bench/results/chaos-<scenario>.json, and exits 1 if any scenario failed. Pass means every job
 * reached the final status its recipient dictates, 0 lost, 0 sent twice, no process died by
 * itself, RingCentral's own rate limit was never hit, and outages were answered with 503s.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prng } from '../../src/simulator/faults';
import { startProductionShape, type ShapeOptions } from './production-shape';
import { SCENARIOS, type Scenario } from './scenarios';
import { awaitFinal, judge, makeJobs, submit, type ChaosJob } from './workload';
import { benchResultsDir } from '../support/results';

const RESULTS = benchResultsDir();

const SIZES = { ci: 20, full: 300 } as const;

const CHAOS_POLICY = {
  pollInitialMs: 2_000,
  pollMaxMs: 5_000,
  pollWithWebhooksMs: 5_000,
  redialBackoffMs: 1_000,
  sendRetryInitialMs: 1_000,
  sentQuietPeriodMs: 120_000,
  killAfterMs: 30 * 60_000,
};

type StatusModel = 'sent-final' | 'delivery-reports';
const STATUS_MODELS: readonly StatusModel[] = ['sent-final', 'delivery-reports'];

interface ScenarioResult {
  scenario: string;
  /** The simulator's status model (issue 9: both kinds of RingCentral account). */
  statusModel: StatusModel;
  description: string;
  jobs: number;
  passed: boolean;
  submitted: number;
  final: number;
  lost: number;
  sentTwice: number;
  wrongFinal: number;
  recoverMs: number | null;
  drainMs: number | null;
  wallMs: number;
  rateLimited429: number;
  injected: Record<string, unknown>;
  unexpectedExits: string[];
  probeFailures: string[];
  resubmitAnswers?: Record<string, number>;
  details: { wrong: string[]; duplicates: string[]; notes: string[] };
  machine: string;
  at: string;
}

async function runScenario(
  scenario: Scenario,
  statusModel: StatusModel,
  n: number,
  seed: number,
): Promise<ScenarioResult> {
  const started = Date.now();
  const rand = prng(seed);
  const shapeOpts: ShapeOptions = {
    workers: 1,
    timeScale: 0.01,
    ownPostgres: false,
    faxPolicy: CHAOS_POLICY,
    statusModel,
    ...scenario.shape,
  };
  const shape = await startProductionShape(shapeOpts);
  try {
    if (scenario.faults) {
      const res = await fetch(`${shape.simulatorUrl}/_sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seed, ...scenario.faults }),
      });
      if (!res.ok) throw new Error(`setting faults failed: ${res.status} ${await res.text()}`);
    }
    const jobs = await makeJobs(n, {
      runId: `${scenario.name}-${seed}`,
      sharedNumbers: scenario.sharedNumbers ?? false,
    });
    const deadline = Date.now() + 10 * 60_000;
    const disruption = scenario.disrupt(shape, jobs, rand);

    // An upstream system with a little concurrency: eight submissions in flight at a time.
    const queue = [...jobs];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await submit(shape, job, deadline);
      }),
    );
    const report = await disruption;
    await awaitFinal(shape, jobs, deadline);

    let resubmitAnswers: Record<string, number> | undefined;
    if (scenario.resubmitAll) {
      resubmitAnswers = {};
      for (const job of jobs) {
        const copy: ChaosJob = { ...job, answers: [], submittedAt: undefined };
        const status = await submit(shape, copy, deadline);
        resubmitAnswers[status] = (resubmitAnswers[status] ?? 0) + 1;
      }
    }

    const verdict = await judge(shape.simulatorUrl, jobs);
    const stats = (await (await fetch(`${shape.simulatorUrl}/_sim/stats`)).json()) as Record<string, unknown>;
    const after = jobs
      .map((j) => j.finalAt)
      .filter((t): t is number => t !== undefined && t >= report.endedAt);
    const unexpectedExits = shape.unexpectedExits();
    const rateLimited429 = Number(stats.rateLimited429 ?? 0);
    const resubmitOk = !resubmitAnswers || Object.keys(resubmitAnswers).every((k) => k === '200');
    const passed =
      verdict.lost === 0 &&
      verdict.sentTwice === 0 &&
      verdict.wrongFinal === 0 &&
      unexpectedExits.length === 0 &&
      report.probeFailures.length === 0 &&
      rateLimited429 === 0 &&
      resubmitOk;
    return {
      scenario: scenario.name,
      statusModel,
      description: scenario.description,
      jobs: n,
      passed,
      submitted: verdict.submitted,
      final: verdict.final,
      lost: verdict.lost,
      sentTwice: verdict.sentTwice,
      wrongFinal: verdict.wrongFinal,
      recoverMs: after.length > 0 ? Math.min(...after) - report.endedAt : null,
      drainMs: after.length > 0 ? Math.max(...after) - report.endedAt : null,
      wallMs: Date.now() - started,
      rateLimited429,
      injected: {
        injected503: stats.injected503,
        injected429: stats.injected429,
        ambiguousSends: stats.ambiguousSends,
        webhooks: stats.webhooks,
      },
      unexpectedExits,
      probeFailures: report.probeFailures,
      ...(resubmitAnswers && { resubmitAnswers }),
      details: {
        wrong: verdict.wrong.slice(0, 20),
        duplicates: verdict.duplicates.slice(0, 20),
        notes: report.notes,
      },
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.cpus()[0]?.model ?? 'cpu'}`,
      at: new Date().toISOString(),
    };
  } finally {
    await shape.close();
  }
}

function row(r: ScenarioResult): string {
  const ms = (v: number | null) => (v === null ? '-' : `${(v / 1000).toFixed(1)} s`);
  return [
    r.passed ? 'PASS' : 'FAIL',
    `${r.scenario} (${r.statusModel})`.padEnd(36),
    `submitted ${r.submitted}`,
    `final ${r.final}`,
    `lost ${r.lost}`,
    `sent twice ${r.sentTwice}`,
    `wrong final ${r.wrongFinal}`,
    `recover ${ms(r.recoverMs)}`,
    `drain ${ms(r.drainMs)}`,
    `wall ${ms(r.wallMs)}`,
  ].join(' | ');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'ci' },
      scenario: { type: 'string', multiple: true },
      jobs: { type: 'string' },
      seed: { type: 'string' },
      'status-model': { type: 'string', default: 'sent-final' },
    },
  });
  const modelArg = values['status-model'];
  const models = modelArg === 'both' ? STATUS_MODELS : STATUS_MODELS.filter((m) => m === modelArg);
  if (models.length === 0) {
    throw new Error(`--status-model must be sent-final, delivery-reports or both, not ${modelArg}`);
  }
  const size = values.size as keyof typeof SIZES;
  if (!(size in SIZES)) throw new Error(`--size must be ci or full, not ${values.size}`);
  const n = values.jobs ? Number(values.jobs) : SIZES[size];
  const seed = values.seed ? Number(values.seed) : Date.now() % 1_000_000;
  const wanted = values.scenario ?? SCENARIOS.map((s) => s.name);
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.name === w));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')}; the scenarios are ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  await mkdir(RESULTS, { recursive: true });
  console.log(`chaos: ${n} faxes per scenario, seed ${seed}`);
  let failed = 0;
  const runs = models.flatMap((model) =>
    SCENARIOS.filter((s) => wanted.includes(s.name)).map((scenario) => ({ scenario, model })),
  );
  for (const { scenario, model } of runs) {
    let result: ScenarioResult;
    try {
      result = await runScenario(scenario, model, n, seed);
    } catch (err) {
      console.log(
        `FAIL | ${scenario.name} (${model}) | the run itself failed: ${(err as Error).stack ?? String(err)}`,
      );
      failed++;
      continue;
    }
    console.log(row(result));
    for (const line of [
      ...result.details.duplicates.map((d) => `  sent twice: ${d}`),
      ...result.details.wrong.map((w) => `  wrong: ${w}`),
      ...result.unexpectedExits.map((e) => `  died: ${e}`),
      ...result.probeFailures.map((p) => `  probe: ${p}`),
      ...(result.rateLimited429 > 0 ? [`  RingCentral rate limit hit ${result.rateLimited429} times`] : []),
      ...(result.resubmitAnswers
        ? [`  resubmitted keys answered ${JSON.stringify(result.resubmitAnswers)}`]
        : []),
    ]) {
      console.log(line);
    }
    await writeFile(
      // sent-final is the simulator's default: its results keep the names they always had.
      path.join(RESULTS, `chaos-${scenario.name}${model === 'sent-final' ? '' : `-${model}`}.json`),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    if (!result.passed) failed++;
  }
  console.log(`chaos: ${failed === 0 ? 'all scenarios passed' : `${failed} scenario(s) failed`}`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
