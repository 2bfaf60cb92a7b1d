import type { Logger } from 'pino';
import type { Db } from '../db/schema';
import { pruneProcessedWebhookNotifications } from '../db/webhook-notifications';
import { recoverUnprocessedNotifications, type RecoveryResult } from './notification-recovery';
import type { NotificationHandler } from './stored-notification';

export interface SweeperOptions {
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The first pass takes every row up to this id (those stored before this process started). */
  upToId?: number;
  /** Pause between passes while all goes well. Default 30 s. */
  intervalMs?: number;
  /** Longest pause after failed passes (the pause doubles from `intervalMs`). Default 10 min. */
  maxIntervalMs?: number;
  /** Later passes take rows received at least this long ago; younger ones are in hand. Default 30 s. */
  graceMs?: number;
  /**
   * The start-up pass takes rows received at least this long ago (default 5 s, several notification
   * windows): a younger row may be another live API process's, held for its window's signal and
   * covering later changes of its credential (notification-processor.ts). Handed on and marked
   * processed here first, it would leave nothing to recover those changes should that process's
   * signal fail. A later pass takes what is left.
   */
  firstPassGraceMs?: number;
  /** Processed rows older than this many days are deleted. Default 7. */
  retentionDays?: number;
  /** How often to prune. Default 1 h. */
  pruneEveryMs?: number;
}

export interface NotificationSweeper {
  /** Settles when the start-up pass (the rows a previous process left) is done. */
  firstPass: Promise<RecoveryResult>;
  /** Stops between two notifications and waits for the pass in progress. */
  stop(): Promise<void>;
}

const EMPTY: RecoveryResult = { delivered: 0, failed: 0, skipped: 0 };

/** See SweeperOptions.firstPassGraceMs. */
export const DEFAULT_FIRST_PASS_GRACE_MS = 5_000;

/**
 * Hands unprocessed notifications on again, for as long as the process runs: at start-up (what a
 * crash left behind), then every `intervalMs` (a hand-off that failed, e.g. Temporal was down), with
 * a doubling pause while passes keep failing. The rows in the database are the durable queue; this
 * loop is only the retry. It also prunes processed rows past their retention.
 */
export function startNotificationSweeper(
  db: Db,
  onNotification: NotificationHandler,
  opts: SweeperOptions = {},
): NotificationSweeper {
  const intervalMs = opts.intervalMs ?? 30_000;
  const maxIntervalMs = opts.maxIntervalMs ?? 10 * 60_000;
  const graceMs = opts.graceMs ?? 30_000;
  const firstPassGraceMs = opts.firstPassGraceMs ?? DEFAULT_FIRST_PASS_GRACE_MS;
  const retentionDays = opts.retentionDays ?? 7;
  const pruneEveryMs = opts.pruneEveryMs ?? 3600_000;
  const abort = new AbortController();
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const pass = async (first: boolean): Promise<RecoveryResult> => {
    try {
      return await recoverUnprocessedNotifications(db, onNotification, {
        signal: abort.signal,
        ...(opts.logger && { logger: opts.logger }),
        ...(first
          ? {
              ...(opts.upToId !== undefined && { upToId: opts.upToId }),
              ...(firstPassGraceMs > 0 && { receivedBeforeMs: firstPassGraceMs }),
            }
          : { receivedBeforeMs: graceMs }),
      });
    } catch (err) {
      opts.logger?.error({ err }, 'handing on unprocessed webhook notifications failed');
      return { ...EMPTY, failed: 1 };
    }
  };

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
      timer.unref();
    });

  const firstPass = pass(true);
  const loop = (async () => {
    let r = await firstPass;
    if (r.delivered + r.failed > 0) opts.logger?.info(r, 'unprocessed webhook notifications handed on');
    let delay = intervalMs;
    let lastPrune = 0;
    while (!abort.signal.aborted) {
      delay = r.failed > 0 ? Math.min(delay * 2, maxIntervalMs) : intervalMs;
      await pause(delay);
      if (abort.signal.aborted) break;
      if (Date.now() - lastPrune >= pruneEveryMs) {
        lastPrune = Date.now();
        try {
          const pruned = await pruneProcessedWebhookNotifications(db, retentionDays);
          if (pruned > 0) opts.logger?.info({ pruned }, 'old webhook notifications pruned');
        } catch (err) {
          opts.logger?.warn({ err }, 'pruning old webhook notifications failed');
        }
      }
      r = await pass(false);
      if (r.failed > 0)
        opts.logger?.warn(r, 'some webhook notifications could not be handed on; retrying later');
    }
  })();

  return {
    firstPass,
    async stop() {
      abort.abort();
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}
