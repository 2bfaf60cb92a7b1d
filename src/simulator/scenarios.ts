import { FaultConfigSchema, type FaultConfig } from './faults';
import type { StatusModel } from './outcomes';

/** A scenario: fault presets plus, optionally, the status model every user reports with. */
export type Scenario = Partial<FaultConfig> & { statusModel?: StatusModel };

/**
 * Named fault presets for `faxflow simulator --scenario NAME` (or SIMULATOR_SCENARIO): a quick way
 * to watch the pipeline survive what RingCentral does on a bad day.
 */
export const SCENARIOS: Record<string, Scenario> = {
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
  /** An account that never reports Delivered: Sent is the final success, line failures are SendingFailed. */
  'sent-final': { statusModel: 'sent-final' },
  /** An account that reports Delivered / DeliveryFailed after Sent. */
  'delivery-reports': { statusModel: 'delivery-reports' },
};

function lookup(name: string): Scenario {
  const preset = SCENARIOS[name];
  if (!preset) {
    throw new Error(
      `Unknown simulator scenario "${name}"; the scenarios are ${Object.keys(SCENARIOS).join(', ')}.`,
    );
  }
  return preset;
}

/** The status model a scenario imposes, if it names one. */
export function scenarioStatusModel(name: string): StatusModel | undefined {
  return lookup(name).statusModel;
}

export function scenarioFaults(name: string): FaultConfig {
  const { statusModel: _model, ...faults } = lookup(name);
  return FaultConfigSchema.parse(faults);
}
