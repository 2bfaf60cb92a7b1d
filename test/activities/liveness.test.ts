import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { beat, BEAT_AFTER_MS } from '../../src/activities/liveness';

describe('beat (a heartbeat between long steps)', () => {
  it('sends nothing in an activity’s first second, then a heartbeat per call', async () => {
    const env = new MockActivityEnvironment();
    let heartbeats = 0;
    env.on('heartbeat', () => heartbeats++);
    const sent = await env.run(async () => {
      const t0 = Date.now();
      // A step that ends in milliseconds (a one-page fax) beats three times and costs no request.
      const early = [beat(t0), beat(t0 + 5), beat(t0 + BEAT_AFTER_MS - 1)];
      // A long validation still tells Temporal it is alive.
      const late = [beat(t0 + BEAT_AFTER_MS), beat(t0 + BEAT_AFTER_MS + 500)];
      return { early, late };
    });
    expect(sent).toEqual({ early: [false, false, false], late: [true, true] });
    expect(heartbeats).toBe(2);
  });

  it('outside an activity it does nothing', () => {
    expect(beat()).toBe(false);
  });
});
