/**
 * The simulated clock. Timestamps are wall-clock (Date.now()); durations are simulated and multiplied
 * by timeScale before being waited for. Every timer goes through a Scheduler so close()/reset can
 * cancel all of them.
 */

export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;

  constructor(readonly timeScale: number) {}

  /** Real milliseconds corresponding to a simulated duration. */
  real(simMs: number): number {
    return simMs * this.timeScale;
  }

  now(): number {
    return Date.now();
  }

  /** Run fn after a simulated duration. Returns a cancel function. */
  afterSim(simMs: number, fn: () => void): () => void {
    return this.afterReal(this.real(simMs), fn);
  }

  /** Run fn after a real duration. Returns a cancel function. */
  afterReal(realMs: number, fn: () => void): () => void {
    if (this.closed) return () => undefined;
    // setTimeout overflows above 2^31-1 ms; nothing in the simulator legitimately waits that long.
    const delay = Math.min(Math.max(0, realMs), 2_147_483_000);
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, delay);
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /** Real-time sleep; resolves early when the scheduler is cleared or closed. */
  sleepReal(realMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.sleepers.delete(t);
        resolve();
      }, realMs);
      this.timers.add(t);
      this.sleepers.set(t, resolve);
    });
  }

  get pending(): number {
    return this.timers.size;
  }

  clearAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const wake = [...this.sleepers.values()];
    this.sleepers.clear();
    for (const w of wake) w();
  }

  close(): void {
    this.closed = true;
    this.clearAll();
  }
}
