import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath } from '../../src/stack/temporal-binary';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const TSX_CLI = path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const BIN = path.join(REPO, 'bin', 'faxflow.js');

/** A `faxflow` process started the way a user starts it, with its output kept for assertions. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output so far or to come. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** The exit code (null after a signal the process did not handle). */
  exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` as a last resort for cleanup. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

const running = new Set<CliProcess>();

/** Variables the parent test process may carry that would change what a child faxflow does. */
const INHERITED_FAXFLOW_VARS = /^(FAXFLOW_|TEMPORAL_|RINGCENTRAL_|DATABASE_URL$|LOG_LEVEL$)/;

export function startCli(args: string[], env: Record<string, string>, cwd = REPO): CliProcess {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !INHERITED_FAXFLOW_VARS.test(k)),
  ) as Record<string, string>;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const proc: CliProcess = {
    child,
    output: () => text,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = text.match(pattern);
          if (m) {
            done();
            resolve(m);
          }
          return Boolean(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        const onExit = (): void => {
          if (check()) return;
          done();
          reject(new Error(`exited before ${pattern}; output:\n${text}`));
        };
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        if (child.exitCode !== null) onExit();
        else check();
      });
    },
    exited,
    async stop(signal = 'SIGINT', graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
        running.delete(proc);
      }
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** For afterEach: no test leaves a faxflow process behind, whatever failed. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL')));
}

/**
 * A PATH on which no `temporal` or `temporal-test-server` can be found, as on a fresh machine, that
 * still has node and python3. The directories holding python3 (a pyenv shim, a virtualenv's bin)
 * usually hold the PyPI `temporal` too, so python3 and node are linked into a folder of their own.
 */
export async function pathWithoutTemporal(): Promise<{ PATH: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-path-'));
  await symlink(process.execPath, path.join(dir, 'node'));
  const python = spawnSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], {
    encoding: 'utf8',
  });
  if (python.status === 0) await symlink(python.stdout.trim(), path.join(dir, 'python3'));
  const kept = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !hasTemporal(d));
  const PATH = [dir, ...kept].join(path.delimiter);
  return { PATH, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function hasTemporal(dir: string): boolean {
  return Boolean(findOnPath('temporal', dir) ?? findOnPath('temporal-test-server', dir));
}
