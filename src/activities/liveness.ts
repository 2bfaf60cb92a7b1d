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

/**
 * An activity this young needs no heartbeat yet: every heartbeat timeout is longer, and the first
 * heartbeat of an attempt is not throttled (it is a request to the Temporal server), so beating
 * in a step that ends within milliseconds would cost a server round trip per fax for nothing.
 */
export const BEAT_AFTER_MS = 1_000;

/** When `beat` first saw each running activity. */
const firstSeen = new WeakMap<Context, number>();

/**
 * One heartbeat now, between long synchronous steps that would starve the interval's timer; none
 * in an activity's first BEAT_AFTER_MS.
 */
export function beat(now = Date.now()): boolean {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return false; // not inside an activity (a unit test calling the function directly)
  }
  const first = firstSeen.get(ctx);
  if (first === undefined) firstSeen.set(ctx, now);
  if (now - (first ?? now) < BEAT_AFTER_MS) return false;
  ctx.heartbeat();
  return true;
}
