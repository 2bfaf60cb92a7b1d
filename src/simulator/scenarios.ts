import { FaultConfigSchema, type FaultConfig } from './faults';

/**
 * Named fault presets for `faxflow simulator --scenario NAME` (or SIMULATOR_SCENARIO): a quick way
 * to watch the pipeline survive what RingCentral does on a bad day.
 */
export const SCENARIOS: Record<string, Partial<FaultConfig>> = {
  /** Everything works. */
  calm: {},
  /** Transient faults: some 503s and 429s, and a few sends accepted but answered with a cut connection. */
  flaky: { error503Rate: 0.1, error429Rate: 0.05, ambiguousSendRate: 0.05, latencyMs: 50 },
  /** Webhooks arrive late, twice, out of order, or not at all. */
  'lossy-webhooks': {
    webhookDropRate: 0.3,
    webhookDuplicateRate: 0.1,
    webhookReorderRate: 0.2,
    webhookDelayRate: 0.1,
  },
  /** Every other send is accepted but the connection is cut before the answer. */
  ambiguous: { ambiguousSendRate: 0.5 },
};

export function scenarioFaults(name: string): FaultConfig {
  const preset = SCENARIOS[name];
  if (!preset) {
    throw new Error(
      `Unknown simulator scenario "${name}"; the scenarios are ${Object.keys(SCENARIOS).join(', ')}.`,
    );
  }
  return FaultConfigSchema.parse(preset);
}
