/**
 * What breaks in each chaos scenario. A disruption starts once part of the workload is in flight,
 * does its damage, and reports when it ended (the clock for "time to recover") plus any probes it
 * made while things were broken.
 */
import type { ChaosJob } from './workload';
import type { ProductionShape, ShapeOptions } from './production-shape';
import { sleep } from './processes';

export interface DisruptionReport {
  endedAt: number;
  notes: string[];
  /** Probe failures: answers that were wrong while something was down (a 500, a hang). */
  probeFailures: string[];
}

export interface Scenario {
  name: string;
  description: string;
  shape?: Partial<ShapeOptions>;
  /** POST /_sim/faults body for the whole run. */
  faults?: Record<string, unknown>;
  sharedNumbers?: boolean;
  /** Re-submit every key after the run: each must answer 200 with the job it already has. */
  resubmitAll?: boolean;
  disrupt(shape: ProductionShape, jobs: ChaosJob[], rand: () => number): Promise<DisruptionReport>;
}

/** Resolves once at least `share` of the jobs have been accepted. */
async function untilSubmitted(jobs: ChaosJob[], share: number): Promise<void> {
  while (jobs.filter((j) => j.submittedAt !== undefined).length < Math.ceil(jobs.length * share))
    await sleep(100);
}

/** Resolves once `share` of the jobs are final, or the timeout passes. */
async function untilFinal(jobs: ChaosJob[], share: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    jobs.filter((j) => j.final !== undefined).length < Math.ceil(jobs.length * share) &&
    Date.now() < deadline
  ) {
    await sleep(200);
  }
}

/** GETs `url` and checks the answer is a quick 503 with Retry-After (or a 2xx); anything else is a finding. */
async function probeOutage(
  url: string,
  what: string,
  failures: string[],
  headers: Record<string, string> = {},
): Promise<number> {
  const started = Date.now();
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    if (res.status === 503 && !res.headers.get('retry-after'))
      failures.push(`${what}: 503 without Retry-After`);
    else if (res.status >= 500 && res.status !== 503) failures.push(`${what}: ${res.status}`);
    return res.status;
  } catch (err) {
    failures.push(`${what}: no answer within 10 s (${Date.now() - started} ms): ${(err as Error).message}`);
    return 0;
  }
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'worker-kill',
    description: 'two workers; one is SIGKILLed at random moments five times and started again',
    shape: { workers: 2 },
    async disrupt(shape, jobs, rand) {
      await untilSubmitted(jobs, 0.2);
      const notes: string[] = [];
      for (let k = 0; k < 5; k++) {
        await sleep(500 + rand() * 3_000);
        await shape.workers[0]!.stop('SIGKILL');
        notes.push(`kill ${k + 1} at ${jobs.filter((j) => j.final).length} final`);
        await sleep(500 + rand() * 1_500);
        await shape.startWorker(0);
      }
      return { endedAt: Date.now(), notes, probeFailures: [] };
    },
  },
  {
    name: 'temporal-restart',
    description: 'the Temporal server stops mid-run and comes back on the same port and database file',
    async disrupt(shape, jobs) {
      await untilSubmitted(jobs, 0.4);
      const probeFailures: string[] = [];
      const stopping = shape.restartTemporal(5_000);
      await sleep(2_000);
      const status = await probeOutage(
        `${shape.apiUrl}/v1/faxes/${jobs[0]!.key}`,
        'GET /v1/faxes/:id during the outage',
        probeFailures,
        { authorization: `Bearer ${shape.apiKey}` },
      );
      await stopping;
      return { endedAt: Date.now(), notes: [`GET during outage: ${status}`], probeFailures };
    },
  },
  {
    name: 'postgres-outage',
    description: "PostgreSQL (a cluster of the suite's own) stops for 20 s mid-run",
    shape: { ownPostgres: true },
    async disrupt(shape, jobs) {
      await untilSubmitted(jobs, 0.5);
      await untilFinal(jobs, 0.1, 30_000);
      const pg = shape.postgres!;
      const probeFailures: string[] = [];
      const notes: string[] = [];
      await pg.stop();
      const downUntil = Date.now() + 20_000;
      await sleep(1_000);
      while (Date.now() < downUntil - 2_000) {
        const ready = await probeOutage(
          `${shape.apiUrl}/ready`,
          'GET /ready during the outage',
          probeFailures,
        );
        if (ready !== 503) probeFailures.push(`GET /ready answered ${ready} while the database was down`);
        notes.push(`ready=${ready}`);
        await sleep(3_000);
      }
      await sleep(Math.max(0, downUntil - Date.now()));
      await pg.start();
      return { endedAt: Date.now(), notes: [...new Set(notes)], probeFailures };
    },
  },
  {
    name: 'api-restart',
    description: 'the API is SIGKILLed mid-run and started again; every key is submitted again afterwards',
    resubmitAll: true,
    async disrupt(shape, jobs) {
      await untilSubmitted(jobs, 0.5);
      await shape.restartApi('SIGKILL');
      return { endedAt: Date.now(), notes: [], probeFailures: [] };
    },
  },
  {
    name: 'all-faults',
    description:
      'every simulator fault at once (503, 429, cut-off sends, lossy webhooks) with three jobs per number',
    sharedNumbers: true,
    faults: {
      error503Rate: 0.1,
      error429Rate: 0.05,
      ambiguousSendRate: 0.3,
      webhookDropRate: 0.3,
      webhookDuplicateRate: 0.1,
      webhookDelayRate: 0.1,
      webhookReorderRate: 0.2,
      webhookDelayMs: 1_000,
    },
    async disrupt() {
      return { endedAt: Date.now(), notes: [], probeFailures: [] };
    },
  },
];
