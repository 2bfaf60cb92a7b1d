import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RateBudgetExhaustedError,
  withRateBudgets,
  type RateGroup,
} from '../../src/ringcentral/rate-budgets';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import type { RingCentralClient } from '../../src/ringcentral/types';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index';

/**
 * Listing outbound faxes follows RingCentral's pages, and each page is one GET, one Light call:
 * the shared budget must be charged per page, not per listing (issue 8 #8).
 */
let sim: SimulatorHandle;
let sdk: RingCentralClient;
beforeAll(async () => {
  sim = await startSimulator({ timeScale: 0.002, rateLimits: false });
  sdk = createSdkRingCentralClient({ serverUrl: sim.url, ...sim.credentials });
  for (let i = 0; i < 5; i++) {
    await sdk.sendFax({
      to: [{ phoneNumber: `+1202555${String(i).padStart(4, '0')}` }],
      documents: [{ filename: `p${i}.txt`, contentType: 'text/plain', content: Buffer.from(`page ${i}`) }],
      coverIndex: 0,
    });
  }
});
afterAll(async () => {
  await sdk?.close();
  await sim?.close();
});

async function listCalls(): Promise<number> {
  const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
    callsByEndpoint: Record<string, number>;
  };
  return stats.callsByEndpoint['GET /restapi/v1.0/account/~/extension/~/message-store'] ?? 0;
}

describe('listOutboundFaxes under the rate budgets', () => {
  it('takes one Light slot per page it lists', async () => {
    const admitted: RateGroup[] = [];
    const rc = withRateBudgets(sdk, async (group) => {
      admitted.push(group);
      return { admitted: true, waitMs: 0 };
    });
    const before = await listCalls();
    const faxes = await rc.listOutboundFaxes({ dateFrom: new Date(0), perPage: 2 });
    expect(faxes).toHaveLength(5);
    // Three pages of 2, 2 and 1: three GETs reached RingCentral, three slots were taken.
    expect((await listCalls()) - before).toBe(3);
    expect(admitted).toEqual(['Light', 'Light', 'Light']);
  });

  it('stops before a page the budget refuses, without calling RingCentral for it', async () => {
    let slots = 2;
    const rc = withRateBudgets(sdk, async () =>
      slots-- > 0 ? { admitted: true, waitMs: 0 } : { admitted: false, retryInMs: 700 },
    );
    const before = await listCalls();
    await expect(rc.listOutboundFaxes({ dateFrom: new Date(0), perPage: 2 })).rejects.toMatchObject({
      constructor: RateBudgetExhaustedError,
      group: 'Light',
      retryInMs: 700,
    });
    expect((await listCalls()) - before).toBe(2);
  });
});
