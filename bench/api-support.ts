import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The forked API process of the v1 benchmarks (bench/api-server.ts) and its IPC. */
export interface ApiProcess {
  url: string;
  child: ChildProcess;
  /** Collects garbage, resets the peak; the RSS after it. */
  settle(): Promise<number>;
  /** The highest RSS since the last settle(). */
  peak(): Promise<number>;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startApiProcess(args: Record<string, unknown>): Promise<ApiProcess> {
  const child = fork(path.join(here, 'api-server.ts'), [JSON.stringify(args)], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code}`)));
    child.once('message', (m: { url?: string }) => (m.url ? resolve(m.url) : reject(new Error('no url'))));
  });
  const ask = (cmd: string) =>
    new Promise<{ rss: number; peak: number }>((resolve) => {
      child.once('message', (m: { rss: number; peak: number }) => resolve(m));
      child.send({ cmd });
    });
  return {
    url,
    child,
    settle: async () => (await ask('gc')).rss,
    peak: async () => (await ask('peak')).peak,
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.send({ cmd: 'exit' });
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

export const mb = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);
