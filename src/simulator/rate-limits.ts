/**
 * RingCentral rate limits: per group, per credential, per window (60 simulated s). Going over starts a
 * penalty of one window; every call made during the penalty is refused and restarts it.
 */
import type { Scheduler } from './clock';

export type RateGroup = 'Heavy' | 'Medium' | 'Light' | 'Auth';

export const GROUP_LIMITS: Record<RateGroup, number> = { Heavy: 10, Medium: 40, Light: 50, Auth: 5 };
export const WINDOW_SIM_MS = 60_000;

interface Bucket {
  windowStart: number;
  count: number;
  penaltyUntil: number;
}

export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  /** whole seconds, at least 1 (only when refused) */
  retryAfter?: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly scheduler: Scheduler,
    public enabled: boolean,
  ) {}

  reset(): void {
    this.buckets.clear();
  }

  private get windowMs(): number {
    return this.scheduler.real(WINDOW_SIM_MS);
  }

  private windowHeader(): string {
    return String(Math.max(1, Math.ceil(this.windowMs / 1000)));
  }

  private headers(group: RateGroup, remaining: number): Record<string, string> {
    return {
      'X-Rate-Limit-Group': group,
      'X-Rate-Limit-Limit': String(GROUP_LIMITS[group]),
      'X-Rate-Limit-Remaining': String(Math.max(0, remaining)),
      'X-Rate-Limit-Window': this.windowHeader(),
    };
  }

  /** Headers without counting a call (for answers that never reached the limiter). */
  peek(group: RateGroup, key: string | undefined): Record<string, string> {
    const b = key === undefined ? undefined : this.buckets.get(`${group}|${key}`);
    const now = this.scheduler.now();
    const used = b && now - b.windowStart < this.windowMs ? b.count : 0;
    return this.headers(group, GROUP_LIMITS[group] - used);
  }

  /** Count one call. */
  take(group: RateGroup, key: string): RateDecision {
    const limit = GROUP_LIMITS[group];
    if (!this.enabled) return { allowed: true, headers: this.headers(group, limit) };
    const now = this.scheduler.now();
    const id = `${group}|${key}`;
    let b = this.buckets.get(id);
    if (!b) {
      b = { windowStart: now, count: 0, penaltyUntil: 0 };
      this.buckets.set(id, b);
    }
    if (b.penaltyUntil > now) {
      b.penaltyUntil = now + this.windowMs; // each call during the penalty restarts it
      return this.refuse(group, b, now);
    }
    if (b.penaltyUntil !== 0 || now - b.windowStart >= this.windowMs) {
      b.windowStart = now;
      b.count = 0;
      b.penaltyUntil = 0;
    }
    b.count++;
    if (b.count > limit) {
      b.penaltyUntil = now + this.windowMs;
      return this.refuse(group, b, now);
    }
    return { allowed: true, headers: this.headers(group, limit - b.count) };
  }

  /** /_sim/rate-limits: each bucket's window and penalty, so tests can wait for the penalty's end. */
  snapshot(): Array<{ bucket: string; count: number; windowStart: number; penaltyUntil: number }> {
    return [...this.buckets].map(([bucket, b]) => ({ bucket, ...b }));
  }

  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.windowMs / 1000));
  }

  private refuse(group: RateGroup, b: Bucket, now: number): RateDecision {
    const retryAfter = Math.max(1, Math.ceil((b.penaltyUntil - now) / 1000));
    return { allowed: false, headers: this.headers(group, 0), retryAfter };
  }
}
