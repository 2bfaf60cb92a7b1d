import type { Logger } from 'pino';
import { endSendLease, renewSendLease } from '../db/fax-attempts';
import type { Db } from '../db/schema';

export interface SendLeaseTimings {
  /** How long a lease lasts unless renewed: a dead worker's lease ends this long after it died. */
  leaseMs: number;
  /** How often the holder renews it (and heartbeats to Temporal). */
  renewMs: number;
  /** After a lease ends, how long an upload it made may take to appear in RingCentral's list. */
  settleMs: number;
  /** Another job's unresolved send no longer blocks the number this long after its lease ended. */
  abandonedMs: number;
}

export const DEFAULT_SEND_LEASE: SendLeaseTimings = {
  leaseMs: 20_000,
  renewMs: 5_000,
  settleMs: 10_000,
  abandonedMs: 15 * 60_000,
};

/**
 * Keeps an acquired lease alive while the execution works, and heartbeats to Temporal with it.
 * When the lease cannot be renewed (another execution took it, or the database is unreachable so
 * nobody could tell) the upload is aborted: an execution may only send while it holds the lease.
 */
export function keepSendLease(opts: {
  db: Db;
  jobId: string;
  attemptNo: number;
  token: string;
  timings: SendLeaseTimings;
  heartbeat: () => void;
  logger: Logger;
}) {
  const lost = new AbortController();
  let failedSince: number | undefined;
  const timer = setInterval(() => {
    opts.heartbeat();
    renewSendLease(opts.db, opts.jobId, opts.attemptNo, opts.token, opts.timings.leaseMs).then(
      (held) => {
        failedSince = undefined;
        if (!held && !lost.signal.aborted) lost.abort(new Error('the send lease was taken over'));
      },
      (err: unknown) => {
        failedSince ??= Date.now();
        // Past the lease nobody can tell we still send: stop before a retry may list and resend.
        if (Date.now() - failedSince >= opts.timings.leaseMs - opts.timings.renewMs && !lost.signal.aborted) {
          opts.logger.warn({ jobId: opts.jobId, err }, 'cannot renew the send lease; aborting the upload');
          lost.abort(new Error('the send lease could not be renewed'));
        }
      },
    );
  }, opts.timings.renewMs);
  timer.unref();
  let recorded = false;
  return {
    signal: lost.signal,
    /** Stops renewing; the lease ends now so a retry only waits the settle delay. */
    async end(): Promise<void> {
      clearInterval(timer);
      // Recording the message id ended the lease already (`lease_until = now()`, and a renewal no
      // longer matches a recorded attempt): ending it again would change nothing (issue 13).
      if (recorded) return;
      await endSendLease(opts.db, opts.jobId, opts.attemptNo, opts.token).catch(() => undefined);
    },
    /** The holder recorded the attempt's message id. */
    recorded(): void {
      recorded = true;
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}
