import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { HISTORIES_DIR } from '../support/test-stack';

/**
 * Every committed history must replay against today's workflow code without a non-determinism
 * error. A change that would break running workflows fails here; gate it with `patched()`.
 * Histories are re-recorded with `FAXFLOW_RECORD_HISTORIES=1 npx vitest run test/integration`.
 */
const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();

describe('workflow replay', () => {
  it('has the committed histories', () => {
    expect(files).toEqual(expect.arrayContaining(['delivered.json', 'busy-then-delivered.json']));
  });

  it.each(files)('replays %s', async (file) => {
    // Handed over as parsed JSON: the worker converts it with its own copy of the protobuf types.
    const history: unknown = JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { code: inject('workflowCode') } }, history, file);
  });
});
