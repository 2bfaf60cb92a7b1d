import { SDK } from '@ringcentral/sdk';
import FormData from 'form-data';
import type { RingCentralMessageStatus } from '../domain/fax-status';
import { RingCentralApiError, RingCentralNetworkError } from './errors';
import {
  OUTBOUND_FAX_EVENT_FILTER,
  type FaxMessage,
  type FaxRecipientStatus,
  type RingCentralClient,
  type SendFaxRequest,
  type Subscription,
} from './types';

export interface SdkClientOptions {
  serverUrl: string;
  clientId: string;
  clientSecret: string;
  jwt: string;
  /** Upper bound for one HTTP exchange; past it the outcome is unknown (ambiguous for a send). */
  requestTimeoutMs?: number;
}

const EXT = '/restapi/v1.0/account/~/extension/~';

/** Errors raised before any byte left this machine: a send that failed this way cannot have happened. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * `RingCentralClient` over the official SDK. One JWT login per process: the SDK then refreshes the
 * access token itself (single-flight inside this Platform), so we never log in per call, which would
 * evict sessions (RingCentral keeps about 5 per user).
 */
export function createSdkRingCentralClient(opts: SdkClientOptions): RingCentralClient {
  const sdk = new SDK({ server: opts.serverUrl, clientId: opts.clientId, clientSecret: opts.clientSecret });
  const platform = sdk.platform();
  const timeoutMs = opts.requestTimeoutMs ?? 120_000;
  let login: Promise<unknown> | undefined;

  const ensureLoggedIn = async (): Promise<void> => {
    login ??= platform.login({ jwt: opts.jwt }).catch(async (err: unknown) => {
      login = undefined;
      throw await translate(err, false);
    });
    await login;
  };

  async function call<T>(run: () => Promise<Response>, read: (r: Response) => Promise<T>, isSend = false) {
    await ensureLoggedIn();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RingCentralNetworkError(`RingCentral did not answer within ${timeoutMs} ms`, true)),
        timeoutMs,
      );
    });
    try {
      const response = await Promise.race([run(), timeout]);
      return await read(response);
    } catch (err) {
      throw await translate(err, isSend);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async sendFax(request: SendFaxRequest): Promise<FaxMessage> {
      // A fresh form per request: the form-data stream is consumed by the first request that reads it.
      const form = buildFaxForm(request);
      return call(
        () => platform.post(`${EXT}/fax`, form),
        async (r) => toFaxMessage(await r.json()),
        true,
      );
    },
    async getMessage(messageId) {
      return call(
        () => platform.get(`${EXT}/message-store/${encodeURIComponent(messageId)}`),
        async (r) => toFaxMessage(await r.json()),
      );
    },
    async listOutboundFaxes({ dateFrom, dateTo, perPage = 1000 }) {
      const out: FaxMessage[] = [];
      for (let page = 1; ; page++) {
        const body = await call(
          () =>
            platform.get(`${EXT}/message-store`, {
              messageType: 'Fax',
              direction: 'Outbound',
              dateFrom: dateFrom.toISOString(),
              ...(dateTo && { dateTo: dateTo.toISOString() }),
              perPage,
              page,
            }),
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
        () =>
          platform.delete(
            `${EXT}/message-store/${encodeURIComponent(messageId)}`,
            undefined,
            purge ? { purge: true } : undefined,
          ),
        async () => undefined,
      );
    },
    async createSubscription({ address, verificationToken, expiresInSeconds }) {
      return call(
        () =>
          platform.post('/restapi/v1.0/subscription', {
            eventFilters: [OUTBOUND_FAX_EVENT_FILTER],
            deliveryMode: { transportType: 'WebHook', address, verificationToken },
            expiresIn: expiresInSeconds,
          }),
        async (r) => toSubscription(await r.json()),
      );
    },
    async getSubscription(id) {
      try {
        return await call(
          () => platform.get(`/restapi/v1.0/subscription/${encodeURIComponent(id)}`),
          async (r) => toSubscription(await r.json()),
        );
      } catch (err) {
        if (err instanceof RingCentralApiError && err.status === 404) return undefined;
        throw err;
      }
    },
    async renewSubscription(id) {
      return call(
        () => platform.post(`/restapi/v1.0/subscription/${encodeURIComponent(id)}/renew`),
        async (r) => toSubscription(await r.json()),
      );
    },
    async deleteSubscription(id) {
      try {
        await call(
          () => platform.delete(`/restapi/v1.0/subscription/${encodeURIComponent(id)}`),
          async () => undefined,
        );
      } catch (err) {
        if (!(err instanceof RingCentralApiError && err.status === 404)) throw err;
      }
    },
    async close() {
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
  const r = raw as { id: string; status: string; expirationTime: string };
  return { id: String(r.id), status: r.status, expirationTime: r.expirationTime };
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
  };
}

/** Maps whatever the SDK threw to one of our two error types, reading RingCentral's error body. */
async function translate(err: unknown, isSend: boolean): Promise<Error> {
  if (err instanceof RingCentralApiError || err instanceof RingCentralNetworkError) return err;
  const e = err as { response?: Response | null; code?: string; message?: string; originalMessage?: string };
  const response = e.response;
  if (response && typeof response.status === 'number') {
    let errorCode = `HTTP-${response.status}`;
    let message = response.statusText || 'request failed';
    try {
      const body = (await response.clone().json()) as {
        errorCode?: string;
        message?: string;
        error?: string;
        error_description?: string;
        errors?: { errorCode?: string; message?: string }[];
      };
      errorCode = body.errorCode ?? body.errors?.[0]?.errorCode ?? body.error ?? errorCode;
      message = body.message ?? body.error_description ?? body.errors?.[0]?.message ?? message;
    } catch {
      // not JSON: keep the HTTP status line
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    return new RingCentralApiError(
      response.status,
      errorCode,
      message,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : response.status === 429 ? 30 : undefined,
      response.headers.get('x-rate-limit-group') ?? undefined,
    );
  }
  const notSent = e.code !== undefined && NOT_SENT_CODES.has(e.code);
  return new RingCentralNetworkError(
    `RingCentral request failed: ${e.originalMessage ?? e.message ?? String(err)}`,
    isSend && !notSent,
  );
}
