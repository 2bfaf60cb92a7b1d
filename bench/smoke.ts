/**
 * `npm run bench:smoke [-- --only upload,rate]`
 *
 * Every `npm run bench:<name>` once, with a tiny N and one run, as CI's check that the benchmarks
 * still complete (issue 13: benchmarks run in CI only as such a smoke run; their figures come from
 * full runs on a quiet machine). A benchmark fails the smoke run if it exits non-zero, runs past its
 * time limit, prints no figures (no table row or figure line with a number on stdout), or, for
 * those that write one, leaves no parseable results JSON.
 *
 * The results are written to a temporary folder (`FAXFLOW_BENCH_RESULTS_DIR`), never over the
 * committed figures in bench/results. Prints each benchmark's wall time and the total.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TSX_CLI = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Smoke {
  /** The `npm run bench:<name>` it stands for. */
  name: string;
  script: string;
  args: string[];
  /** The JSON file it writes into the results folder, if any. */
  results?: string;
  /** A line on stdout that carries its figures. */
  figures: RegExp;
  timeoutMs: number;
}

/** A table row with a number in it (printTable and the markdown tables both print `| ... |`). */
const TABLE_ROW = /^\|.*\d.*\|\s*$/m;

const SMOKES: Smoke[] = [
  {
    name: 'simulator',
    script: 'bench/simulator-throughput.ts',
    args: ['--seconds', '1', '--concurrency', '4'],
    figures: /\d+ faxes accepted .* = \d+ faxes\/s/,
    timeoutMs: 60_000,
  },
  {
    name: 'validation',
    script: 'bench/validation/run.ts',
    args: ['--pages', '5', '--mb', '1', '--runs', '1'],
    results: 'validation.json',
    figures: TABLE_ROW,
    timeoutMs: 90_000,
  },
  {
    name: 'upload',
    script: 'bench/api-upload.ts',
    args: ['--mb', '2', '--runs', '1'],
    results: 'api-upload.json',
    figures: TABLE_ROW,
    timeoutMs: 90_000,
  },
  {
    name: 'submit',
    script: 'bench/api-submit.ts',
    args: ['--n', '5', '--concurrency', '2'],
    results: 'api-submit.json',
    figures: TABLE_ROW,
    timeoutMs: 120_000,
  },
  {
    name: 'throughput',
    script: 'bench/throughput/run.ts',
    args: ['--n', '5', '--runs', '1'],
    results: 'throughput.json',
    figures: TABLE_ROW,
    timeoutMs: 150_000,
  },
  {
    name: 'submission',
    script: 'bench/submission/run.ts',
    args: ['--n', '3', '--concurrency', '2'],
    results: 'submission.json',
    figures: TABLE_ROW,
    timeoutMs: 150_000,
  },
  {
    name: 'memory',
    script: 'bench/memory/run.ts',
    args: ['--n', '5', '--cache', '5', '--concurrency', '4', '--sample', '5', '--settle', '1'],
    results: 'memory.json',
    figures: TABLE_ROW,
    timeoutMs: 150_000,
  },
  {
    name: 'rate',
    script: 'bench/rate/run.ts',
    args: ['--n', '12', '--workers', '2'],
    results: 'rate.json',
    figures: TABLE_ROW,
    timeoutMs: 150_000,
  },
  {
    name: 'worker-start',
    script: 'bench/worker-start.ts',
    args: ['--runs', '1'],
    results: 'worker-start.json',
    figures: TABLE_ROW,
    timeoutMs: 180_000,
  },
];

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  why?: string;
}

/** Runs one benchmark in its own process group (so a timeout ends its children too). */
function runOne(
  smoke: Smoke,
  resultsDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, smoke.script, ...smoke.args], {
      cwd: ROOT,
      env: { ...process.env, FAXFLOW_BENCH_RESULTS_DIR: resultsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, smoke.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

async function smokeOne(smoke: Smoke, resultsDir: string): Promise<Outcome> {
  const t0 = performance.now();
  const { code, stdout, stderr, timedOut } = await runOne(smoke, resultsDir);
  const seconds = (performance.now() - t0) / 1000;
  const fail = (why: string): Outcome => {
    const tail = (stdout + stderr).trimEnd().split('\n').slice(-30).join('\n');
    console.error(`--- bench:${smoke.name} (${smoke.script} ${smoke.args.join(' ')}): ${why}\n${tail}\n---`);
    return { name: smoke.name, ok: false, seconds, why };
  };
  if (timedOut) return fail(`did not finish within ${smoke.timeoutMs / 1000} s`);
  if (code !== 0) return fail(`exited with ${code}`);
  if (!smoke.figures.test(stdout)) return fail('printed no figures on stdout');
  if (smoke.results) {
    const file = path.join(resultsDir, smoke.results);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return fail(`wrote no ${smoke.results}`);
    try {
      JSON.parse(text);
    } catch {
      return fail(`${smoke.results} is not JSON`);
    }
  }
  return { name: smoke.name, ok: true, seconds };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only?.filter((name) => !SMOKES.some((s) => s.name === name)) ?? [];
  if (unknown.length) {
    throw new Error(
      `--only: no benchmark named ${unknown.join(', ')} (known: ${SMOKES.map((s) => s.name).join(', ')})`,
    );
  }
  const chosen = only ? SMOKES.filter((s) => only.includes(s.name)) : SMOKES;
  const resultsDir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-bench-smoke-'));
  const outcomes: Outcome[] = [];
  const t0 = performance.now();
  try {
    for (const smoke of chosen) {
      const outcome = await smokeOne(smoke, resultsDir);
      outcomes.push(outcome);
      console.log(
        `bench:${smoke.name.padEnd(12)} ${outcome.ok ? 'ok    ' : 'FAILED'} ${outcome.seconds.toFixed(1).padStart(6)} s${outcome.why ? `  (${outcome.why})` : ''}`,
      );
    }
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
  const failed = outcomes.filter((o) => !o.ok);
  console.log(
    `bench smoke: ${outcomes.length - failed.length}/${outcomes.length} completed in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  if (failed.length) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
