import { describe, expect, it } from 'vitest';
import { sendAtProblem } from '../../src/domain/send-time';

const NOW = Date.parse('2026-11-27T12:00:00Z');

describe('sendAtProblem (issue 8, item 22b)', () => {
  it('accepts ISO 8601 times with an offset', () => {
    for (const ok of [
      '2026-12-01T09:00:00Z',
      '2026-12-01T09:00Z',
      '2026-12-01T09:00:00.123Z',
      '2026-12-01T09:00:00-05:00',
      '2026-12-01T09:00:00+0100',
    ]) {
      expect(sendAtProblem(ok, NOW)).toBeUndefined();
    }
  });

  it('refuses dates the server would read in its own time zone, and says what to send', () => {
    for (const bad of [
      '12/25/2026',
      '2026-12-25',
      '2026-12-25T09:00:00',
      'Dec 25 2026 09:00 GMT',
      'tomorrow',
    ]) {
      expect(sendAtProblem(bad, NOW)).toBe(
        `sendAt ${JSON.stringify(bad)} is not an ISO 8601 time with an offset; give one such as 2026-12-01T09:00:00Z or 2026-12-01T09:00:00-05:00.`,
      );
    }
  });

  it('bounds what it echoes', () => {
    const problem = sendAtProblem('9'.repeat(10_000), NOW);
    expect(problem).toContain(`"${'9'.repeat(40)}..."`);
    expect(problem!.length).toBeLessThan(200);
  });

  it('still refuses past and far-future times', () => {
    expect(sendAtProblem('2026-11-27T11:00:00Z', NOW)).toMatch(/is in the past/);
    expect(sendAtProblem('2028-01-01T00:00:00Z', NOW)).toMatch(/more than a year ahead/);
  });
});
