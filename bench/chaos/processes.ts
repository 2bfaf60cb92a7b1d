/**
 * Child processes as an operator runs them: each with its own log file, killable with any signal,
 * restartable with the same command. Unexpected exits are counted: a process that dies by itself
 * during a chaos run is a finding, not noise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream;
  private expectingExit = false;
  /** Exits nobody asked for (crashes), with their code or signal. */
  readonly unexpectedExits: string[] = [];
  private output = '';

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    this.expectingExit = false;
    this.output = '';
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.log.write(`\n=== start ${new Date().toISOString()} ${this.command} ${this.args.join(' ')}\n`);
    const capture = (chunk: Buffer) => {
      this.log.write(chunk);
      // Keep the tail only: enough to find a start-up line, never the whole run in memory.
      this.output = (this.output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    child.on('exit', (code, signal) => {
      this.log.write(`=== exit code=${code} signal=${signal} ${new Date().toISOString()}\n`);
      if (!this.expectingExit) this.unexpectedExits.push(`${this.name}: code ${code}, signal ${signal}`);
    });
  }

  /** Resolves once `pattern` appears in the process's output since its last start. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.alive)
        throw new Error(`${this.name} exited before printing ${pattern}: ${this.output.slice(-2000)}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it lingers). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    this.expectingExit = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    this.start();
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM', 10_000);
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Resolves once GET `url` answers 200. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(200);
  }
}
