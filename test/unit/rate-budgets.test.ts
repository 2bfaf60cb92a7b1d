import { describe, expect, it } from 'vitest';
import {
  RateBudgetExhaustedError,
  withRateBudgets,
  type RateGroup,
} from '../../src/ringcentral/rate-budgets';
import { FakeRingCentral } from '../support/fake-ringcentral';

describe('withRateBudgets', () => {
  it('takes a slot from the right group before each call', async () => {
    const groups: RateGroup[] = [];
    const rc = withRateBudgets(new FakeRingCentral(), async (group) => {
      groups.push(group);
      return { admitted: true, waitMs: 0 };
    });
    const sent = await rc.sendFax({ to: [{ phoneNumber: '+12025550123' }], documents: [] });
    await rc.getMessage(sent.id);
    await rc.listOutboundFaxes({ dateFrom: new Date(0) });
    await rc.deleteMessage(sent.id);
    expect(groups).toEqual(['Heavy', 'Light', 'Light', 'Medium']);
  });

  it('refuses without calling RingCentral when the budget says no, and says when to retry', async () => {
    const fake = new FakeRingCentral();
    const rc = withRateBudgets(fake, async () => ({ admitted: false, retryInMs: 1234 }));
    await expect(rc.sendFax({ to: [{ phoneNumber: '+12025550123' }], documents: [] })).rejects.toMatchObject({
      constructor: RateBudgetExhaustedError,
      group: 'Heavy',
      retryInMs: 1234,
    });
    expect(fake.sent).toHaveLength(0);
  });

  it('waits for a slot reserved ahead before calling', async () => {
    const fake = new FakeRingCentral();
    const rc = withRateBudgets(fake, async () => ({ admitted: true, waitMs: 150 }));
    const started = Date.now();
    await rc.sendFax({ to: [{ phoneNumber: '+12025550123' }], documents: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(fake.sent).toHaveLength(1);
  });
});
