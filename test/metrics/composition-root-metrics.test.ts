import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { metricsText } from '../../src/metrics/metrics';
import { RingCentralApiError } from '../../src/ringcentral/errors';
import { RateBudgetExhaustedError } from '../../src/ringcentral/rate-budgets';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { buildDependencies, type Dependencies } from '../../src/workers/dependencies';
import { sampleValue } from '../support/prometheus';

/** The production composition root against the simulator: what it wraps is what gets counted. */
let simulator: SimulatorHandle;
let deps: Dependencies;

beforeAll(async () => {
  // A credential of its own: its rate budgets in the shared test database start empty.
  simulator = await startSimulator({ clientId: `metrics-${randomUUID()}` });
  const config = loadConfig({
    DATABASE_URL: inject('databaseUrl'),
    // One Light call per long window: the second is refused by our budget, not by RingCentral.
    RINGCENTRAL_LIGHT_PER_MINUTE: '1',
    FAXFLOW_RATE_WINDOW_MS: '3600000',
  });
  deps = await buildDependencies(
    config,
    { serverUrl: simulator.url, ...simulator.credentials },
    pino({ level: 'silent' }),
  );
});
afterAll(async () => {
  await deps?.close();
  await simulator?.close();
});

async function setFaults(faults: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${simulator.url}/_sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(res.status).toBeLessThan(300);
}

const value = (text: string, name: string, labels: Record<string, string> = {}) =>
  sampleValue(text, name, labels) ?? 0;

describe('buildDependencies wires metrics around the RingCentral client and the budgets', () => {
  it('counts calls that reach RingCentral, 429s by group, slot waits and budget refusals', async () => {
    const ok = { group: 'Light', call: 'getSubscription', outcome: 'ok' };
    const limited = { group: 'Light', call: 'getSubscription', outcome: 'rate_limited' };
    const medium = { group: 'Medium', call: 'deleteSubscription', outcome: 'rate_limited' };
    const before = await metricsText();

    // Light: admitted at once (one wait of 0 s observed), reaches RingCentral, answers (404: undefined).
    expect(await deps.ringcentral.getSubscription('no-such-subscription')).toBeUndefined();
    // Light again: the budget of 1 per window is spent, so it is refused before any request.
    await expect(deps.ringcentral.getSubscription('no-such-subscription')).rejects.toBeInstanceOf(
      RateBudgetExhaustedError,
    );
    // Medium: RingCentral answers 429 (injected), counted under its group.
    await setFaults({ error429Rate: 1, groups: ['Medium'] });
    await expect(deps.ringcentral.deleteSubscription('no-such-subscription')).rejects.toSatisfy(
      (err) => err instanceof RingCentralApiError && err.isRateLimited,
    );

    const after = await metricsText();
    expect(
      value(after, 'faxflow_ringcentral_calls_total', ok) -
        value(before, 'faxflow_ringcentral_calls_total', ok),
    ).toBe(1);
    expect(value(after, 'faxflow_ringcentral_calls_total', limited)).toBe(
      value(before, 'faxflow_ringcentral_calls_total', limited),
    );
    expect(
      value(after, 'faxflow_ringcentral_calls_total', medium) -
        value(before, 'faxflow_ringcentral_calls_total', medium),
    ).toBe(1);
    expect(
      value(after, 'faxflow_ringcentral_429_total', { group: 'Medium' }) -
        value(before, 'faxflow_ringcentral_429_total', { group: 'Medium' }),
    ).toBe(1);
    expect(
      value(after, 'faxflow_rate_budget_exhausted_total', { group: 'Light' }) -
        value(before, 'faxflow_rate_budget_exhausted_total', { group: 'Light' }),
    ).toBe(1);
    expect(
      value(after, 'faxflow_rate_budget_wait_seconds_count', { group: 'Light' }) -
        value(before, 'faxflow_rate_budget_wait_seconds_count', { group: 'Light' }),
    ).toBe(1);
    expect(
      value(after, 'faxflow_ringcentral_call_duration_seconds_count', { call: 'getSubscription' }) -
        value(before, 'faxflow_ringcentral_call_duration_seconds_count', { call: 'getSubscription' }),
    ).toBe(1);
  });
});
