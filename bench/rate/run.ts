/**
 * `npm run bench:rate [-- --n 100 --workers 3 --time-scale 0.05]`
 *
 * The shared rate budget across worker *processes*: N faxes, each to its own number, submitted at
 * once through `faxflow api`, then three `faxflow worker`s started (separate processes sharing one
 * credential and one PostgreSQL), the simulator enforcing RingCentral's Heavy limit (10 sends per
 * minute, scaled). Reports how much of the Heavy budget was used (sends per window against the
 * limit), the 429s RingCentral answered, the send attempts our budget refused (each one a Temporal
 * retry), and whether every fax was sent exactly once. Writes bench/results/rate.json.
 *
 * It also prints where the span went (bench/rate/timeline.ts): sends per window, how spread the
 * first window's sends were (they leave as jobs become ready), and the spacing between each send and
 * the one `limit` sends later (the window, plus what the budget left unused). RATE_DUMP=file writes
 * the raw timeline.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startProductionShape } from '../chaos/production-shape';
import { awaitFinal, judge, makeJobs, submit } from '../chaos/workload';
import { printTable, fmt } from '../support/measure';
import { benchResultsDir } from '../support/results';
import { sendTimeline } from './timeline';

const RESULTS = benchResultsDir();
const HEAVY_PER_MINUTE = 10;

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100' },
    workers: { type: 'string', default: '3' },
    'time-scale': { type: 'string', default: '0.05' },
  },
});
const N = Number(values.n);
const WORKERS = Number(values.workers);
const SCALE = Number(values['time-scale']);

async function main(): Promise<void> {
  const shape = await startProductionShape({
    workers: WORKERS,
    timeScale: SCALE,
    ownPostgres: false,
    faxPolicy: {
      pollInitialMs: 2_000,
      pollMaxMs: 5_000,
      pollWithWebhooksMs: 5_000,
      sendRetryInitialMs: 1_000,
    },
    env: { RINGCENTRAL_HEAVY_PER_MINUTE: String(HEAVY_PER_MINUTE) },
    // The workers start once every fax is submitted: the budget then has its backlog from the first
    // send on. Started before, the first window measures the load generator instead (100 submissions
    // through the API take 1-2 s, and the first sends leave as they arrive).
    startWorkers: false,
  });
  try {
    // Every fax to its own number: faxes to one number leave one after another (the number's lease),
    // and that queue, not the budget, would set the pace of the last sends.
    const jobs = await makeJobs(N, {
      runId: `rate-${Date.now()}`,
      sharedNumbers: false,
      invalidNumbers: false,
    });
    const deadline = Date.now() + 30 * 60_000;
    const t0 = Date.now();
    await Promise.all(jobs.map((job) => submit(shape, job, deadline)));
    await Promise.all(shape.workers.map((_, i) => shape.startWorker(i)));
    await awaitFinal(shape, jobs, deadline);
    const wallMs = Date.now() - t0;
    const verdict = await judge(shape.simulatorUrl, jobs);
    const stats = (await (await fetch(`${shape.simulatorUrl}/_sim/stats`)).json()) as {
      rateLimited429: number;
    };
    const faxes = (
      (await (await fetch(`${shape.simulatorUrl}/_sim/faxes`)).json()) as {
        faxes: { createdAt: string; recipients: { phoneNumber: string }[] }[];
      }
    ).faxes;
    const times = faxes.map((f) => Date.parse(f.createdAt)).sort((a, b) => a - b);
    const budgetRetries = await budgetRetriesLogged(shape.dir, WORKERS);
    // The first window's sends leave at once; every later send needs budget. Sends after the first
    // window, per window elapsed from the first send to the last, against the limit.
    const windowMs = 60_000 * SCALE;
    const spanWindows = Math.max(1e-9, (times.at(-1)! - times[0]!) / windowMs);
    const perWindow = Math.max(0, times.length - HEAVY_PER_MINUTE) / spanWindows;
    const used = Math.min(1, perWindow / HEAVY_PER_MINUTE);
    const timeline = sendTimeline(times, HEAVY_PER_MINUTE, windowMs);
    const submitted = jobs.map((j) => j.submittedAt ?? t0);
    console.log(`sends per window (from the first send): ${timeline.perWindow.join(' ')}`);
    console.log(
      `first ${HEAVY_PER_MINUTE} sends spread over ${timeline.firstWindowSpreadMs} ms; ` +
        `send to the ${HEAVY_PER_MINUTE}th after it: median ${timeline.spacingMs.median} ms, ` +
        `p90 ${timeline.spacingMs.p90} ms, min ${timeline.spacingMs.min} ms (window ${windowMs} ms); ` +
        `submissions accepted over ${Math.max(...submitted) - Math.min(...submitted)} ms, ` +
        `first send ${times[0]! - Math.min(...submitted)} ms after the first`,
    );
    console.log(
      `once the first window was full: ${timeline.pacedSendsPerWindow} sends per window ` +
        `(${((timeline.pacedSendsPerWindow / HEAVY_PER_MINUTE) * 100).toFixed(0)} % of the budget); ` +
        `send attempts the budget refused (retried by Temporal): ${budgetRetries}`,
    );
    // RATE_DUMP=file: the raw timeline (submissions, the simulator's faxes) for a closer look.
    if (process.env.RATE_DUMP) {
      await writeFile(process.env.RATE_DUMP, JSON.stringify({ t0, submitted, faxes }, null, 1));
    }
    const result = {
      n: N,
      workers: WORKERS,
      timeScale: SCALE,
      heavyPerMinute: HEAVY_PER_MINUTE,
      sendsPerWindow: Number(perWindow.toFixed(2)),
      budgetUsed: Number(used.toFixed(2)),
      rateLimited429: stats.rateLimited429,
      sentTwice: verdict.sentTwice,
      lost: verdict.lost,
      wrongFinal: verdict.wrongFinal,
      wallMs,
      sendsPerWindowHistogram: timeline.perWindow,
      firstWindowSpreadMs: timeline.firstWindowSpreadMs,
      pacedSendsPerWindow: timeline.pacedSendsPerWindow,
      budgetRetries,
      spacingMs: timeline.spacingMs,
      submitSpanMs: Math.max(...submitted) - Math.min(...submitted),
      unexpectedExits: shape.unexpectedExits(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      at: new Date().toISOString(),
    };
    printTable(
      `shared Heavy budget: ${N} faxes, ${WORKERS} worker processes, limit ${HEAVY_PER_MINUTE} per scaled minute (${windowMs} ms)`,
      ['sends per window', 'budget used', '429s', 'sent twice', 'lost', 'wall'],
      [
        [
          fmt(perWindow),
          `${(used * 100).toFixed(0)} %`,
          stats.rateLimited429,
          verdict.sentTwice,
          verdict.lost,
          `${(wallMs / 1000).toFixed(1)} s`,
        ],
      ],
    );
    await mkdir(RESULTS, { recursive: true });
    await writeFile(path.join(RESULTS, 'rate.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await shape.close();
  }
}

/**
 * Send attempts that our budget refused and Temporal retried (`nextRetryDelay`): the worker logs a
 * warning for each failed activity attempt, and the budget's refusal names itself.
 */
async function budgetRetriesLogged(dir: string, workers: number): Promise<number> {
  let n = 0;
  for (let i = 1; i <= workers; i++) {
    const log = await readFile(path.join(dir, `worker-${i}.log`), 'utf8').catch(() => '');
    for (const line of log.split('\n')) if (line.includes('budget exhausted for this credential')) n++;
  }
  return n;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
