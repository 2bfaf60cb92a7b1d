/** Fault injection configured through POST /_sim/faults, deterministic when a seed is given. */
import { z } from 'zod';
import type { RateGroup } from './rate-limits';

const share = z.number().min(0).max(1);

export const FaultConfigSchema = z
  .object({
    /** PRNG seed: with a seed, the same sequence of requests meets the same faults */
    seed: z.number().int().optional(),
    /** share of /restapi calls answered 503 CMN-211 without being processed */
    error503Rate: share.default(0),
    /** share of /restapi calls answered 429 CMN-301 without being processed */
    error429Rate: share.default(0),
    /** share of fax sends that are accepted (the fax will transmit) but whose connection is destroyed before any answer */
    ambiguousSendRate: share.default(0),
    /** added latency in real ms before each /restapi answer */
    latencyMs: z.number().min(0).max(60_000).default(0),
    /** limit 503/429/latency to these rate-limit groups (default: all) */
    groups: z.array(z.enum(['Heavy', 'Medium', 'Light', 'Auth'])).optional(),
    webhookDropRate: share.default(0),
    webhookDuplicateRate: share.default(0),
    webhookDelayRate: share.default(0),
    /** real ms a delayed notification is held */
    webhookDelayMs: z.number().min(0).max(60_000).default(2_000),
    /** share of notifications held back and sent after the next one */
    webhookReorderRate: share.default(0),
    /** consecutive failed deliveries after which a subscription is Blacklisted */
    webhookBlacklistAfter: z.number().int().min(1).max(1000).default(5),
    /** Retry-After (seconds) of every injected 503 */
    retryAfter503: z.number().int().min(0).max(3600).default(1),
    /** the next N calls to the token endpoint answer 503 CMN-211 (counts down; GET shows what is left) */
    tokenError503Count: z.number().int().min(0).default(0),
    /** share of token-endpoint calls answered 503 CMN-211 */
    tokenError503Rate: share.default(0),
    /** the next N refresh grants answer 400 invalid_grant (counts down) */
    refreshInvalidGrantCount: z.number().int().min(0).default(0),
    /** share of refresh grants answered 400 invalid_grant */
    refreshInvalidGrantRate: share.default(0),
    /** real ms by which the answer to an accepted fax send is held back (0 = off): the fax transmits meanwhile */
    acceptAfterMs: z.number().min(0).max(600_000).default(0),
    /** share of sends whose answer is held back by acceptAfterMs */
    acceptAfterRate: share.default(1),
  })
  .strict();

export type FaultConfig = z.infer<typeof FaultConfigSchema>;

export const defaultFaults = (): FaultConfig => FaultConfigSchema.parse({});

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Faults {
  config: FaultConfig = defaultFaults();
  private random: () => number = Math.random;

  set(config: FaultConfig): void {
    this.config = config;
    this.random = config.seed !== undefined ? prng(config.seed) : Math.random;
  }

  reset(): void {
    this.set(defaultFaults());
  }

  /** Draw against a share; a share of 0 consumes no randomness (keeps seeded sequences stable). */
  roll(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.random() < rate;
  }

  /** A token-endpoint call meets an injected 503 (the count first, then the rate). */
  takeToken503(): boolean {
    if (this.config.tokenError503Count > 0) {
      this.config.tokenError503Count--;
      return true;
    }
    return this.roll(this.config.tokenError503Rate);
  }

  /** A refresh grant meets an injected invalid_grant (the count first, then the rate). */
  takeRefreshInvalidGrant(): boolean {
    if (this.config.refreshInvalidGrantCount > 0) {
      this.config.refreshInvalidGrantCount--;
      return true;
    }
    return this.roll(this.config.refreshInvalidGrantRate);
  }

  appliesTo(group: RateGroup): boolean {
    return this.config.groups === undefined || this.config.groups.includes(group);
  }
}
