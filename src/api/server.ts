import type { FastifyInstance } from 'fastify';
import { buildApp, type ApiDeps, type ApiOptions } from './app';
import { lastWebhookNotificationId } from '../db/webhook-notifications';
import { recoverUnprocessedNotifications, type RecoveryResult } from '../webhooks/notification-recovery';

export interface ApiServerOptions extends ApiOptions {
  host: string;
  /** 0 picks a free port (see `url`). */
  port: number;
  /** Close the server on SIGINT/SIGTERM (then the process can exit). Default false: the caller decides. */
  handleSignals?: boolean;
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

  const abort = new AbortController();
  const recovery = recoverUnprocessedNotifications(deps.db, deps.onNotification, {
    logger: app.log,
    upToId,
    signal: abort.signal,
  }).then(
    (r) => {
      app.log.info(r, 'unprocessed webhook notifications redelivered');
      return r;
    },
    (err: unknown) => {
      app.log.error({ err }, 'redelivering unprocessed webhook notifications failed');
      return { delivered: 0, failed: 0, skipped: 0 };
    },
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      abort.abort();
      await app.close();
      await recovery;
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
