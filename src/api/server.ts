import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiDeps, type ApiOptions } from './app';
import { lastWebhookNotificationId } from '../db/webhook-notifications';
import type { RecoveryResult } from '../webhooks/notification-recovery';
import { startNotificationSweeper, type SweeperOptions } from '../webhooks/notification-sweeper';

export interface ApiServerOptions extends ApiOptions {
  host: string;
  /** 0 picks a free port (see `url`). */
  port: number;
  /** Close the server on SIGINT/SIGTERM (then the process can exit). Default false: the caller decides. */
  handleSignals?: boolean;
  /** The retry sweep of unprocessed notifications (intervals, retention). */
  sweeper?: Omit<SweeperOptions, 'logger' | 'upToId'>;
}

export interface ApiServer {
  url: string;
  app: FastifyInstance;
  /** Settles when the start-up redelivery of unprocessed notifications is done. */
  recovery: Promise<RecoveryResult>;
  /** Stops accepting, finishes in-flight requests, stops the recovery between two notifications. */
  close(): Promise<void>;
}

/**
 * Owns the HTTP side of the process: builds the app, listens, and then hands every notification that
 * was stored but not processed before the last shutdown (or crash) to `deps.onNotification` again.
 */
export async function startApiServer(deps: ApiDeps, opts: ApiServerOptions): Promise<ApiServer> {
  const app = await buildApp(deps, opts);
  // Rows stored from now on are handed on by the request path; recovery takes the ones before.
  const upToId = await lastWebhookNotificationId(deps.db);
  const address = await app.listen({ host: opts.host, port: opts.port });
  const url = address.replace('[::1]', 'localhost');

  // A hand-off that fails (Temporal down, a crash) is retried by this sweep, not only at start-up.
  const sweeper = startNotificationSweeper(deps.db, deps.onNotification, {
    ...opts.sweeper,
    logger: app.log,
    upToId,
  });
  const recovery = sweeper.firstPass;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await sweeper.stop();
      await app.close();
    })();
    return closing;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    app.log.info({ signal }, 'closing the API server');
    close().catch((err: unknown) => app.log.error({ err }, 'closing the API server failed'));
  };
  if (opts.handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  app.log.info({ url }, 'API server listening');
  return { url, app, recovery, close };
}
