/**
 * The chaos workload, seen only from outside: jobs are submitted through the HTTP API with an
 * Idempotency-Key (retried through outages, as an upstream system would), followed through
 * `GET /faxes/:id`, and judged against what the simulator says it transmitted. Each job carries a
 * document of its own, so the simulator's attachment hashes tell which job every fax belongs to:
 * "sent twice" is counted from RingCentral's side, never from faxflow's tables.
 */
import { createHash } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { sleep } from './processes';

export interface ChaosJob {
  key: string;
  to: string;
  /** What the recipient's magic number dictates. */
  expected: 'Delivered' | 'Failed';
  pdf: Uint8Array;
  sha256: string;
  submittedAt?: number;
  /** HTTP answers to every submission of this key (202 new, 200 existing). */
  answers: number[];
  final?: string;
  finalAt?: number;
}

const ORDINARY_PREFIX = '+1202555';
const INVALID_NUMBER = '+15550000003';

/**
 * `n` jobs: every tenth to an invalid number (final failure without a redial), the rest to
 * ordinary numbers. With `sharedNumbers`, groups of three jobs fax the same number at once.
 * With `invalidNumbers: false`, every job goes to its own ordinary number (bench:rate: the invalid
 * ones share one number, so they leave one at a time, as faxflow sends to a number, whatever the
 * budget has left).
 */
export async function makeJobs(
  n: number,
  opts: { runId: string; sharedNumbers: boolean; invalidNumbers?: boolean },
): Promise<ChaosJob[]> {
  const jobs: ChaosJob[] = [];
  for (let i = 0; i < n; i++) {
    const key = `chaos-${opts.runId}-${i}`;
    const invalid = opts.invalidNumbers !== false && i % 10 === 9;
    const slot = opts.sharedNumbers ? Math.floor(i / 3) : i;
    const to = invalid
      ? INVALID_NUMBER
      : `${ORDINARY_PREFIX}${String(1000 + (slot % 9000)).padStart(4, '0')}`;
    const pdf = await onePagePdf(`faxflow chaos run ${opts.runId}, job ${i}`);
    jobs.push({
      key,
      to,
      expected: invalid ? 'Failed' : 'Delivered',
      pdf,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      answers: [],
    });
  }
  return jobs;
}

async function onePagePdf(text: string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([612, 792]).drawText(text, { x: 72, y: 700, size: 14, font });
  return doc.save({ useObjectStreams: false });
}

/**
 * Submits a job, retrying what an upstream system retries (connection errors, 5xx) with the same
 * key, until it is accepted or `deadline` passes. Returns the HTTP status of the accepting answer.
 */
/** Where the API is and the key it is called with (the HTTP API v1, as an upstream system uses it). */
export interface ApiTarget {
  apiUrl: string;
  apiKey: string;
}

export async function submit(api: ApiTarget, job: ChaosJob, deadline: number): Promise<number> {
  const body = JSON.stringify({
    to: job.to,
    documents: [{ filename: `${job.key}.pdf`, contentBase64: Buffer.from(job.pdf).toString('base64') }],
  });
  let delay = 200;
  for (;;) {
    try {
      const res = await fetch(`${api.apiUrl}/v1/faxes`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': job.key,
          authorization: `Bearer ${api.apiKey}`,
        },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      job.answers.push(res.status);
      if (res.status === 200 || res.status === 202) {
        job.submittedAt ??= Date.now();
        return res.status;
      }
      // 409 IDEMPOTENCY_KEY_IN_USE (with Retry-After): the key's first request is still running (or
      // died with the API and its claim has not expired yet); retrying is what upstream does.
      if (res.status < 500 && res.status !== 429 && res.status !== 409) {
        throw new Error(`submission of ${job.key} refused with ${res.status}`);
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('submission of')) throw err;
      job.answers.push(0);
    }
    if (Date.now() > deadline) throw new Error(`submission of ${job.key} never accepted`);
    await sleep(delay);
    delay = Math.min(delay * 2, 2_000);
  }
}

const FINAL = new Set(['Rejected', 'Delivered', 'SentUnconfirmed', 'Sent', 'Failed', 'Canceled', 'Expired']);

/** One look at a job through the API; undefined while it cannot be read (an outage). */
async function statusOf(api: ApiTarget, key: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${api.apiUrl}/v1/faxes/${encodeURIComponent(key)}`, {
      headers: { authorization: `Bearer ${api.apiKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) {
      await res.arrayBuffer();
      return undefined;
    }
    const body = (await res.json()) as { status?: string; final?: boolean };
    // `Sent` is final only where the account does not report delivery; while the job is still
    // waiting for Delivered it is only where the job stands.
    if (body.final) return body.status;
    return body.status === 'Sent' ? 'in flight at Sent' : body.status;
  } catch {
    return undefined;
  }
}

/** Follows every job until it is final or `deadline` passes; `onProgress` sees the count of final jobs. */
export async function awaitFinal(
  api: ApiTarget,
  jobs: ChaosJob[],
  deadline: number,
  onProgress?: (final: number) => void,
): Promise<void> {
  for (;;) {
    const open = jobs.filter((j) => j.final === undefined && j.submittedAt !== undefined);
    for (let i = 0; i < open.length; i += 16) {
      await Promise.all(
        open.slice(i, i + 16).map(async (job) => {
          const status = await statusOf(api, job.key);
          if (status !== undefined && FINAL.has(status)) {
            job.final = status;
            job.finalAt = Date.now();
          }
        }),
      );
    }
    onProgress?.(jobs.filter((j) => j.final !== undefined).length);
    if (jobs.every((j) => j.final !== undefined) || Date.now() > deadline) return;
    await sleep(1_000);
  }
}

interface SimFaxSummary {
  cancelled: boolean;
  attachments: Array<{ sha256: string }>;
}

export interface Verdict {
  submitted: number;
  final: number;
  lost: number;
  sentTwice: number;
  neverSent: number;
  wrongFinal: number;
  /** key: status pairs of the wrong ones, for the report. */
  wrong: string[];
  duplicates: string[];
}

/** Judges the run against the simulator's record of what it transmitted. */
export async function judge(simulatorUrl: string, jobs: ChaosJob[]): Promise<Verdict> {
  const res = await fetch(`${simulatorUrl}/_sim/faxes`);
  const body = (await res.json()) as SimFaxSummary[] | { faxes: SimFaxSummary[] };
  const faxes = Array.isArray(body) ? body : body.faxes;
  const sends = new Map<string, number>();
  for (const fax of faxes) {
    if (fax.cancelled) continue;
    for (const a of fax.attachments) sends.set(a.sha256, (sends.get(a.sha256) ?? 0) + 1);
  }
  const wrong: string[] = [];
  const duplicates: string[] = [];
  let neverSent = 0;
  for (const job of jobs) {
    const count = sends.get(job.sha256) ?? 0;
    if (count > 1) duplicates.push(`${job.key} (${count} faxes to ${job.to})`);
    const success = job.final === 'Delivered' || job.final === 'Sent' || job.final === 'SentUnconfirmed';
    if (job.final !== undefined && job.final !== job.expected && !(success && job.expected === 'Delivered')) {
      wrong.push(`${job.key}: ${job.final}, expected ${job.expected}`);
    }
    // A success that RingCentral never transmitted is a lie in our records.
    if (success && count === 0) {
      neverSent++;
      wrong.push(`${job.key}: ${job.final} but the simulator never received it`);
    }
  }
  const final = jobs.filter((j) => j.final !== undefined).length;
  return {
    submitted: jobs.filter((j) => j.submittedAt !== undefined).length,
    final,
    lost: jobs.length - final,
    sentTwice: duplicates.length,
    neverSent,
    wrongFinal: wrong.length,
    wrong,
    duplicates,
  };
}
