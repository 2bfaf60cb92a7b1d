import { Context } from '@temporalio/activity';

/** How often a running activity tells Temporal its worker is alive. */
export const LIVENESS_INTERVAL_MS = 3_000;

/**
 * Heartbeats while `fn` runs, so the heartbeat timeout set on every proxy (fax-activities.ts)
 * notices a dead worker within seconds instead of waiting out start-to-close; heartbeats also
 * carry cancellation and "timed out" back to the activity. Outside an activity it does nothing.
 */
export function withLiveness<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  everyMs = LIVENESS_INTERVAL_MS,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    let ctx: Context | undefined;
    try {
      ctx = Context.current();
    } catch {
      ctx = undefined;
    }
    const timer = ctx && setInterval(() => ctx.heartbeat(), everyMs);
    try {
      return await fn(...args);
    } finally {
      if (timer) clearInterval(timer);
    }
  };
}

/** One heartbeat now, between long synchronous steps that would starve the interval's timer. */
export function beat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // not inside an activity (a unit test calling the function directly)
  }
}
