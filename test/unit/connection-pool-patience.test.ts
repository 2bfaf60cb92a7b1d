import { describe, expect, it } from 'vitest';
import { patienceFor } from '../../src/connections/connection-pool';

describe('the patience of a budget refusal', () => {
  it("is the group's slot wait, at most 5 s, so a read's worst case stays inside its 1 min start-to-close", () => {
    // Production waits: sends 5 s, reads and writes 20 s (src/workers/dependencies.ts).
    expect(patienceFor({ Heavy: 5_000, Medium: 20_000, Light: 20_000 })).toEqual({
      Heavy: 5_000,
      Medium: 5_000,
      Light: 5_000,
    });
    expect(patienceFor({ Heavy: 1_000, Medium: 0, Light: 3_000 })).toEqual({
      Heavy: 1_000,
      Medium: 0,
      Light: 3_000,
    });
  });
});
