import { createFaxflowClient, FaxflowApiError, type FaxflowClient } from '../client/http';
import type { V1Fax } from '../contracts/v1-api';
import { UsageError } from './errors';

/**
 * Exit codes of the commands over the HTTP API (`faxflow fax ...`, `faxflow webhook-endpoints ...`),
 * so scripts can tell outcomes apart. Listed in `faxflow fax --help`.
 */
export const EXIT = {
  ok: 0, // done; for a fax: delivered (or still in progress for `status`)
  error: 1, // unexpected: network, server error
  usage: 2, // bad options, missing FAXFLOW_API_URL / FAXFLOW_API_KEY
  failed: 3, // the fax ended Failed, Expired or NeedsReview
  rejected: 4, // the fax was rejected (bad number, bad document)
  canceled: 5, // the fax was canceled
  refused: 6, // the API refused the request (not found, too late, invalid): its code is printed
  timeout: 7, // --wait gave up before the fax ended
} as const;

export const EXIT_CODES_HELP = `Exit codes: 0 delivered / done, 1 unexpected error, 2 usage error, 3 failed (or expired,
needs review), 4 rejected, 5 canceled, 6 refused by the API (code printed), 7 --wait timed out.`;

/** The outcome's exit code for a fax: success 0, else failed/rejected/canceled. */
export function exitCodeFor(fax: Pick<V1Fax, 'status' | 'final'>): number {
  switch (fax.status) {
    case 'Rejected':
      return EXIT.rejected;
    case 'Canceled':
      return EXIT.canceled;
    case 'Failed':
    case 'Expired':
    case 'NeedsReview':
      return EXIT.failed;
    default:
      return EXIT.ok;
  }
}

/** The client from FAXFLOW_API_URL and FAXFLOW_API_KEY (usage error when either is missing). */
export function clientFromEnv(env: NodeJS.ProcessEnv = process.env): FaxflowClient {
  const baseUrl = env.FAXFLOW_API_URL;
  const apiKey = env.FAXFLOW_API_KEY;
  if (!baseUrl)
    throw new UsageError('Set FAXFLOW_API_URL to the faxflow API (e.g. https://faxflow.example.com).');
  if (!apiKey) throw new UsageError('Set FAXFLOW_API_KEY to an API key (fxf_...; faxflow api-keys create).');
  try {
    return createFaxflowClient({ baseUrl, apiKey });
  } catch (e) {
    throw new UsageError(`FAXFLOW_API_URL: ${(e as Error).message}`);
  }
}

/** API refusals print their code and exit 6; network trouble exits 1. Anything else propagates. */
export async function withApiErrors(err: (line: string) => void, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof FaxflowApiError)) throw e;
    err(`faxflow: ${e.message} [${e.code}]`);
    return e.status >= 400 && e.status < 500 && e.status !== 429 ? EXIT.refused : EXIT.error;
  }
}

/** Fixed-width table for humans (`--json` prints the API's objects instead). */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** "in 3m 20s" / "now" for a time relative to now. */
export function inWords(at: string | null, now = Date.now()): string {
  if (!at) return '';
  const s = Math.round((Date.parse(at) - now) / 1000);
  if (s <= 0) return 'now';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [h && `${h}h`, m && `${m}m`, !h && `${s % 60}s`].filter(Boolean);
  return `in ${parts.join(' ')}`;
}

/** The live line of `send --wait` / `status`: status, attempt, next action and when. */
export function statusLine(fax: V1Fax, now = Date.now()): string {
  const parts = [`${fax.id}: ${fax.status}`];
  const attempt = fax.attempts[fax.attempts.length - 1];
  if (attempt)
    parts.push(`attempt ${attempt.attempt}${attempt.messageId ? ` (message ${attempt.messageId})` : ''}`);
  if (fax.nextAction && !fax.final) {
    const when = fax.nextAction.at
      ? ` at ${fax.nextAction.at.slice(11, 19)}Z (${inWords(fax.nextAction.at, now)})`
      : '';
    const label = {
      send: 'send',
      redial: 'next redial',
      poll: 'next check',
      'wait-for-connection': 'waiting for its connection',
    }[fax.nextAction.kind];
    parts.push(`${label}${when}`);
  }
  if (fax.error) parts.push(`${fax.error.code}: ${fax.error.message}`);
  return parts.join(' · ');
}
