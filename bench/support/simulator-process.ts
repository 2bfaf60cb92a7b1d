/**
 * Starts the RingCentral simulator as a child process (bench/support/simulator-child.ts), so a
 * benchmark can tell the simulator's CPU (RingCentral's side, elsewhere in production) from the
 * pipeline's own. The handle is the in-process simulator's, plus the child's pid.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SimulatorHandle, SimulatorOptions } from '../../src/simulator';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'simulator-child.ts');

export async function startSimulatorProcess(
  opts: SimulatorOptions,
): Promise<SimulatorHandle & { pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', (code) =>
      reject(new Error(`the simulator process exited (code ${code}) before it listened`)),
    );
  });
  const started = JSON.parse(first) as Pick<SimulatorHandle, 'url' | 'port' | 'credentials'>;
  let closing: Promise<void> | undefined;
  return {
    ...started,
    pid: child.pid!,
    close: () =>
      (closing ??= (async () => {
        child.kill('SIGTERM');
        await exited;
      })()),
  };
}
