/**
 * What the simulator's record of sends says about how the budget was used (issue 13): where the
 * span from the first send to the last went, so a low figure can be told apart from its causes.
 */
export interface SendTimeline {
  /** Sends in each window counted from the first send (the last window may be partial). */
  perWindow: number[];
  /** From the first send to the `limit`-th: sends that left as they became ready, before any budget wait. */
  firstWindowSpreadMs: number;
  /**
   * From each send to the one `limit` sends later: never under the window (or RingCentral counts
   * one too many); the more over it, the more budget left unused between them.
   */
  spacingMs: { min: number; median: number; p90: number; max: number };
  /**
   * Sends per window from the `limit`-th send to the last: the budget's own pace once its first
   * window is full, whatever the first `limit` sends took to become ready (a sliding window keeps
   * that spread: each later send comes a window after the one `limit` before it).
   */
  pacedSendsPerWindow: number;
}

export function sendTimeline(times: number[], limit: number, windowMs: number): SendTimeline {
  const sorted = [...times].sort((a, b) => a - b);
  if (sorted.length === 0) {
    return {
      perWindow: [],
      firstWindowSpreadMs: 0,
      spacingMs: { min: 0, median: 0, p90: 0, max: 0 },
      pacedSendsPerWindow: 0,
    };
  }
  const perWindow: number[] = [];
  for (const t of sorted) {
    const w = Math.floor((t - sorted[0]!) / windowMs);
    while (perWindow.length <= w) perWindow.push(0);
    perWindow[w]!++;
  }
  const gaps = sorted
    .slice(limit)
    .map((t, i) => t - sorted[i]!)
    .sort((a, b) => a - b);
  const at = (q: number) =>
    gaps.length === 0 ? 0 : gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))]!;
  const full = sorted[Math.min(limit, sorted.length) - 1]!;
  const pacedSpan = (sorted.at(-1)! - full) / windowMs;
  return {
    perWindow,
    firstWindowSpreadMs: full - sorted[0]!,
    spacingMs: { min: at(0), median: at(0.5), p90: at(0.9), max: at(1) },
    pacedSendsPerWindow: pacedSpan > 0 ? Number(((sorted.length - limit) / pacedSpan).toFixed(2)) : 0,
  };
}
