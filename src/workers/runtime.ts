import { Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/common';
import { createLogger, type Logger } from '../logger';
import { PinoTemporalLogger } from './temporal-logger';

let installed = false;

/**
 * The Temporal SDK's process-wide runtime. We install it once, quiet (warnings and errors only by
 * default), logging through the process's pino logger (Core's native lines are forwarded to it
 * too), and without its own signal handlers: our commands stop workers, Temporal and Postgres in
 * order.
 */
export function installTemporalRuntime(
  level: LogLevel = 'WARN',
  logger?: Logger,
  opts: { metricsBindAddress?: string } = {},
): void {
  if (installed) return;
  const pinoLevel = level.toLowerCase();
  const base = logger ?? createLogger(pinoLevel);
  // The SDK is as quiet as `level` asks, and never chattier than the process's own logger.
  const quieter = base.levelVal > base.levels.values[pinoLevel]! ? base.level : pinoLevel;
  Runtime.install({
    logger: new PinoTemporalLogger(base.child({ component: 'temporal' }, { level: quieter })),
    telemetryOptions: {
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      // The SDK's own metrics (polls, task latencies, slots, sticky cache) are served by Core itself.
      ...(opts.metricsBindAddress && {
        metrics: {
          prometheus: {
            bindAddress: opts.metricsBindAddress,
            countersTotalSuffix: true,
            useSecondsForDurations: true,
          },
        },
      }),
    },
    shutdownSignals: [],
  });
  installed = true;
}

/** Resolves on the first SIGINT or SIGTERM (Ctrl-C). */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
