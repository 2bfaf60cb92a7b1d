import { randomUUID } from 'node:crypto';
import { SDK } from '@ringcentral/sdk';
import FormData from 'form-data';
import type { RingCentralMessageStatus } from '../domain/fax-status';
import { ConnectionUnavailableError } from './connections';
import { RingCentralApiError, RingCentralNetworkError } from './errors';
import { createRedactor } from './redact';
import { authFailureOf, toAuthError, toRingCentralError } from './sdk-errors';
import {
  OUTBOUND_FAX_EVENT_FILTER,
  type FaxMessage,
  type FaxRecipientStatus,
  type RingCentralClient,
  type SendFaxOptions,
  type SendFaxRequest,
  type Subscription,
} from './types';

/**
 * Where a client gets its access token when the token set is shared by many processes (a
 * connection in Postgres, see src/connections/token-store.ts) instead of a login of its own.
 */
export interface AccessTokenSource {
  /** The current access token; may renew it first (once for the whole fleet). */
  current(): Promise<{ accessToken: string; version: number }>;
  /** RingCentral answered 401 to the token of `version`: a newer one. */
  afterUnauthorized(version: number): Promise<{ accessToken: string; version: number }>;
}

export interface SdkClientOptions {
  serverUrl: string;
  clientId: string;
  /** Needed to log in with `jwt`; unused with `tokens`. */
  clientSecret?: string;
  /** Log in with this JWT, once per client (the process's own session). */
  jwt?: string;
  /** Or: use the access tokens of a shared token set, never logging in or refreshing itself. */
  tokens?: AccessTokenSource;
  /** Upper bound for one HTTP exchange; past it the outcome is unknown (ambiguous for a send). */
  requestTimeoutMs?: number;
  /** How often `sendFax`'s heartbeat callback runs while the request is in flight. */
  heartbeatIntervalMs?: number;
  /** Where login rebuilds are reported; messages never carry a token or secret. */
  logger?: { warn(obj: object, msg: string): void };
}

const EXT = '/restapi/v1.0/account/~/extension/~';
interface LoginState {
  promise: Promise<void>;
  done: boolean;
}

/**
 * `RingCentralClient` over the official SDK. One JWT login per process: the SDK then refreshes the
 * access token itself (single-flight inside this Platform), so we never log in per call, which would
 * evict sessions (RingCentral keeps about 5 per user). When a refresh fails the SDK wipes its tokens;
 * the login is then rebuilt from the JWT instead of failing every later call.
 */
export function createSdkRingCentralClient(opts: SdkClientOptions): RingCentralClient {
  // The SDK keeps tokens in one storage shared by every SDK in the process and wipes its whole
  // prefix when a refresh fails: a prefix of our own keeps clients (and credentials) apart.
  if ((opts.jwt === undefined) === (opts.tokens === undefined)) {
    throw new Error('createSdkRingCentralClient needs exactly one of jwt and tokens');
  }
  const jwt = opts.jwt ?? '';
  const tokenSource = opts.tokens;
  const sdk = new SDK({
    server: opts.serverUrl,
    clientId: opts.clientId,
    ...(opts.clientSecret !== undefined && { clientSecret: opts.clientSecret }),
    cachePrefix: `faxflow-${randomUUID()}-`,
  });
  const platform = sdk.platform();
  const timeoutMs = opts.requestTimeoutMs ?? 120_000;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 5_000;
  const redact = createRedactor([jwt, opts.clientSecret ?? '']);
  const rememberTokens = async () => {
    const data = await platform.auth().data();
    redact.add(data.access_token, data.refresh_token);
  };
  platform.on(platform.events.loginSuccess, () => void rememberTokens());
  platform.on(platform.events.refreshSuccess, () => void rememberTokens());

  /** The JWT login this client's session came from; `done` once it succeeded. */
  let login: LoginState | undefined;

  /** The current login, started from the JWT when there is none (or the SDK lost its tokens). */
  const currentLogin = async (): Promise<LoginState> => {
    const seen = login;
    if (seen?.done && !(await platform.auth().refreshTokenValid()) && login === seen) {
      // The SDK wiped its tokens (a failed refresh) or the refresh token expired.
      opts.logger?.warn({}, 'RingCentral session lost; logging in again with the JWT');
      login = undefined;
    }
    if (!login) {
      const started: LoginState = {
        done: false,
        promise: platform.login({ jwt }).then(
          () => {
            started.done = true;
          },
          async (err: unknown) => {
            if (login === started) login = undefined;
            const failure = await toAuthError(err, 'login', redact);
            opts.logger?.warn(
              { status: failure.status, errorCode: failure.errorCode },
              'RingCentral login failed',
            );
            throw failure;
          },
        ),
      };
      login = started;
    }
    return login;
  };

  /** Forgets the login `failed` (if still current) so that the next request logs in with the JWT. */
  const dropLogin = (failed: LoginState) => {
    if (login === failed) login = undefined;
  };

  interface CallOptions {
    isSend?: boolean;
    signal?: AbortSignal;
    heartbeat?: () => void;
  }

  /**
   * One logical call. `run` is invoked once per HTTP attempt with the attempt's abort signal, so
   * each (re)try builds its own body. The SDK's own 401 retry is off (`retry: true` in the send
   * options): it would re-send a request body stream already consumed.
   */
  async function call<T>(
    run: (signal: AbortSignal, auth: string | undefined) => Promise<Response>,
    read: (r: Response) => Promise<T>,
    { isSend = false, signal: external, heartbeat }: CallOptions = {},
  ): Promise<T> {
    if (external?.aborted) {
      throw new RingCentralNetworkError('RingCentral request cancelled before it started', false);
    }
    const controller = new AbortController();
    let timedOut = false;
    let requestStarted = false;
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => {
        // Ambiguous only if the request may have left: an abort during login sent nothing.
        const ambiguous = isSend && requestStarted;
        reject(
          timedOut
            ? new RingCentralNetworkError(`RingCentral did not answer within ${timeoutMs} ms`, ambiguous)
            : new RingCentralNetworkError('RingCentral request cancelled by the caller', ambiguous),
        );
      });
    });
    aborted.catch(() => undefined);
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onExternalAbort = () => controller.abort();
    external?.addEventListener('abort', onExternalAbort, { once: true });
    // A heartbeat that throws must not become an uncaught exception that ends the process.
    const beat = heartbeat
      ? setInterval(() => {
          try {
            heartbeat();
          } catch {
            // the caller's liveness signal failed; the request itself goes on
          }
        }, heartbeatIntervalMs)
      : undefined;

    /** With a shared token set: its current token; on a 401, the next one (renewed once fleet-wide). */
    const attemptWithTokens = async (source: AccessTokenSource): Promise<T> => {
      let grant = await source.current();
      for (let retried = false; ; retried = true) {
        redact.add(grant.accessToken);
        if (controller.signal.aborted) throw new Error('aborted before the request');
        try {
          requestStarted = true;
          return await read(await run(controller.signal, grant.accessToken));
        } catch (err) {
          if (controller.signal.aborted) throw err;
          if (authFailureOf(err) !== 'unauthorized') throw err;
          if (retried) {
            const error = await toAuthError(err, 'request', redact);
            opts.logger?.warn({ status: error.status, errorCode: error.errorCode }, error.message);
            throw error;
          }
          grant = await source.afterUnauthorized(grant.version);
        }
      }
    };

    const attempt = async (): Promise<T> => {
      if (tokenSource) return attemptWithTokens(tokenSource);
      let retriedUnauthorized = false;
      let reloggedIn = false;
      for (;;) {
        const session = await currentLogin();
        await session.promise;
        // Aborted while logging in: the race has already answered; send nothing.
        if (controller.signal.aborted) throw new Error('aborted before the request');
        try {
          requestStarted = true;
          return await read(await run(controller.signal, undefined));
        } catch (err) {
          if (controller.signal.aborted) throw err;
          const failure = authFailureOf(err);
          if (failure === undefined) throw err;
          if (failure === 'unauthorized' && !retriedUnauthorized) {
            // RingCentral ended the session or the token expired early: refresh, then retry once.
            retriedUnauthorized = true;
            await platform.auth().cancelAccessToken();
            continue;
          }
          if (failure === 'refresh-refused' && !reloggedIn) {
            // A refresh token refused (invalid_grant) is dead for good: log in again with the JWT.
            reloggedIn = true;
            opts.logger?.warn({}, 'RingCentral refused the refresh token; logging in again with the JWT');
            dropLogin(session);
            continue;
          }
          // The SDK has wiped its tokens (or they do not work): the next call starts a new login.
          dropLogin(session);
          const error = await toAuthError(err, failure === 'unauthorized' ? 'request' : 'refresh', redact);
          opts.logger?.warn({ status: error.status, errorCode: error.errorCode }, error.message);
          throw error;
        }
      }
    };

    try {
      return await Promise.race([attempt(), aborted]);
    } catch (err) {
      if (err instanceof ConnectionUnavailableError) throw err;
      throw await toRingCentralError(err, isSend && requestStarted, redact);
    } finally {
      clearTimeout(timer);
      if (beat) clearInterval(beat);
      external?.removeEventListener('abort', onExternalAbort);
    }
  }

  /**
   * Send options for every request: our abort signal, and no SDK-side retry (see `call`). With a
   * shared token set, its token goes in the header and the SDK's own login and refresh stay off.
   */
  const sendOptions = (signal: AbortSignal, auth: string | undefined) =>
    (auth === undefined
      ? { signal, retry: true }
      : {
          signal,
          retry: true,
          skipAuthCheck: true,
          headers: { Authorization: `Bearer ${auth}`, 'Client-Id': opts.clientId },
        }) as unknown as Parameters<typeof platform.send>[0];

  return {
    async sendFax(request: SendFaxRequest, sendOpts: SendFaxOptions = {}): Promise<FaxMessage> {
      return call(
        // A fresh form per attempt: a form-data stream is consumed by the first request that reads it.
        (signal, auth) =>
          platform.post(`${EXT}/fax`, buildFaxForm(request), undefined, sendOptions(signal, auth)),
        async (r) => toFaxMessage(await r.json()),
        { isSend: true, ...sendOpts },
      );
    },
    async getMessage(messageId) {
      return call(
        (signal, auth) =>
          platform.get(
            `${EXT}/message-store/${encodeURIComponent(messageId)}`,
            undefined,
            sendOptions(signal, auth),
          ),
        async (r) => toFaxMessage(await r.json()),
      );
    },
    async listOutboundFaxes({ dateFrom, dateTo, perPage = 1000, beforeNextPage }) {
      const out: FaxMessage[] = [];
      for (let page = 1; ; page++) {
        if (page > 1) await beforeNextPage?.();
        const body = await call(
          (signal, auth) =>
            platform.get(
              `${EXT}/message-store`,
              {
                messageType: 'Fax',
                direction: 'Outbound',
                dateFrom: dateFrom.toISOString(),
                ...(dateTo && { dateTo: dateTo.toISOString() }),
                perPage,
                page,
              },
              sendOptions(signal, auth),
            ),
          async (r) => (await r.json()) as ListResponse,
        );
        out.push(...(body.records ?? []).map(toFaxMessage));
        const totalPages = body.paging?.totalPages;
        if (!body.navigation?.nextPage && (totalPages === undefined || page >= totalPages)) break;
        if ((body.records ?? []).length === 0) break;
      }
      return out;
    },
    async deleteMessage(messageId, { purge = false } = {}) {
      await call(
        (signal, auth) =>
          platform.delete(
            `${EXT}/message-store/${encodeURIComponent(messageId)}`,
            undefined,
            purge ? { purge: true } : undefined,
            sendOptions(signal, auth),
          ),
        async () => undefined,
      );
    },
    async createSubscription({ address, verificationToken, expiresInSeconds }) {
      return call(
        (signal, auth) =>
          platform.post(
            '/restapi/v1.0/subscription',
            {
              eventFilters: [OUTBOUND_FAX_EVENT_FILTER],
              deliveryMode: { transportType: 'WebHook', address, verificationToken },
              expiresIn: expiresInSeconds,
            },
            undefined,
            sendOptions(signal, auth),
          ),
        async (r) => toSubscription(await r.json()),
      );
    },
    async getSubscription(id) {
      try {
        return await call(
          (signal, auth) =>
            platform.get(
              `/restapi/v1.0/subscription/${encodeURIComponent(id)}`,
              undefined,
              sendOptions(signal, auth),
            ),
          async (r) => toSubscription(await r.json()),
        );
      } catch (err) {
        if (err instanceof RingCentralApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    async listSubscriptions() {
      return call(
        (signal, auth) => platform.get('/restapi/v1.0/subscription', undefined, sendOptions(signal, auth)),
        async (r) => ((await r.json()) as { records?: unknown[] }).records?.map(toSubscription) ?? [],
      );
    },
    async renewSubscription(id) {
      return call(
        (signal, auth) =>
          platform.post(
            `/restapi/v1.0/subscription/${encodeURIComponent(id)}/renew`,
            undefined,
            undefined,
            sendOptions(signal, auth),
          ),
        async (r) => toSubscription(await r.json()),
      );
    },
    async deleteSubscription(id) {
      try {
        await call(
          (signal, auth) =>
            platform.delete(
              `/restapi/v1.0/subscription/${encodeURIComponent(id)}`,
              undefined,
              undefined,
              sendOptions(signal, auth),
            ),
          async () => undefined,
        );
      } catch (err) {
        if (!(err instanceof RingCentralApiError && err.status === 404)) throw err;
      }
    },
    async close() {
      // A shared token set belongs to the fleet: this client ends no session.
      if (tokenSource) return;
      // Ends the session so it does not count against the user's parallel-session limit.
      if (login) await platform.logout().catch(() => undefined);
    },
  };
}

export function buildFaxForm(request: SendFaxRequest): FormData {
  const form = new FormData();
  const body = {
    to: request.to,
    ...(request.faxResolution && { faxResolution: request.faxResolution }),
    ...(request.sendTime && { sendTime: request.sendTime }),
    coverIndex: request.coverIndex ?? 0, // omitted would attach RingCentral's default cover page
    ...(request.coverPageText !== undefined && { coverPageText: request.coverPageText }),
  };
  // The layout of RingCentral's own Node sample: a JSON part, then one part per document.
  form.append('json', Buffer.from(JSON.stringify(body)), {
    filename: 'request.json',
    contentType: 'application/json',
  });
  for (const doc of request.documents) {
    form.append('attachment', doc.content, { filename: doc.filename, contentType: doc.contentType });
  }
  return form;
}

function toSubscription(raw: unknown): Subscription {
  const r = raw as {
    id: string;
    status: string;
    expirationTime: string;
    deliveryMode?: { address?: unknown };
  };
  const address = r.deliveryMode?.address;
  return {
    id: String(r.id),
    status: r.status,
    expirationTime: r.expirationTime,
    ...(typeof address === 'string' && { address }),
  };
}

interface ListResponse {
  records?: unknown[];
  paging?: { page?: number; totalPages?: number };
  navigation?: { nextPage?: { uri: string } };
}

interface RawRecord {
  id: number | string;
  messageStatus: RingCentralMessageStatus;
  creationTime: string;
  lastModifiedTime: string;
  faxPageCount?: number;
  availability?: string;
  to?: FaxRecipientStatus[];
  attachments?: { fileName?: string; filename?: string }[];
  coverIndex?: number;
}

export function toFaxMessage(raw: unknown): FaxMessage {
  const r = raw as RawRecord;
  return {
    id: String(r.id),
    messageStatus: r.messageStatus,
    creationTime: r.creationTime,
    lastModifiedTime: r.lastModifiedTime,
    faxPageCount: r.faxPageCount ?? 0,
    availability: r.availability ?? 'Alive',
    to: (r.to ?? []).map((t) => ({
      phoneNumber: t.phoneNumber,
      ...(t.name !== undefined && { name: t.name }),
      ...(t.messageStatus !== undefined && { messageStatus: t.messageStatus }),
      ...(t.faxErrorCode !== undefined && { faxErrorCode: t.faxErrorCode }),
    })),
    ...(r.attachments && {
      attachments: r.attachments.map((a) => {
        const fileName = a.fileName ?? a.filename;
        return fileName !== undefined ? { fileName } : {};
      }),
    }),
    ...(typeof r.coverIndex === 'number' && { coverIndex: r.coverIndex }),
  };
}
