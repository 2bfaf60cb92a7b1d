import type { V1Broadcast, V1Fax, V1FaxEvent, V1Page } from '../../contracts/v1-api';
import { isFinalStatus } from '../../domain/fax-status';
import { FaxflowApiError } from './errors';
import { filePart, multipartBody, type FaxFile, type MultipartPart } from './multipart';
import type {
  CreateWebhookEndpointInput,
  ListFaxesFilter,
  SendFaxInput,
  SendFaxResult,
  WaitForFaxOptions,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
  WebhookDeliveryLogEntry,
} from './types';

export interface FaxflowClientOptions {
  /** Where the API is, e.g. `https://faxflow.example.com` (the `/v1` prefix is added). */
  baseUrl: string;
  /** `fxf_...` */
  apiKey: string;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Per request (not uploads). Default 30 s. */
  timeoutMs?: number;
  /** Retries of idempotent requests (GET, DELETE) on 429/502/503/504 and network errors. Default 2. */
  retries?: number;
}

/** Whether a fax has reached its end (its `final` flag, or a final status). */
export function isFinalFax(fax: Pick<V1Fax, 'final' | 'status'>): boolean {
  return fax.final || (fax.status !== 'WaitingForConnection' && isFinalStatus(fax.status));
}

/**
 * The typed HTTP client of faxflow's v1 API (`faxflow/client`). Errors are `FaxflowApiError`
 * with the API's code. For services on the same Temporal cluster, `createFaxClient`
 * (src/client/fax-client.ts) remains the lower-level alternative.
 */
export class FaxflowClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: FaxflowClientOptions) {
    if (!/^https?:\/\//.test(opts.baseUrl)) {
      throw new TypeError(`baseUrl must be an http(s) URL, not ${JSON.stringify(opts.baseUrl)}.`);
    }
    if (!opts.apiKey) throw new TypeError('apiKey is required (fxf_...).');
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** Submits a fax (one `to`) or a broadcast (several), uploading the files as multipart, streamed. */
  async sendFax(input: SendFaxInput): Promise<SendFaxResult> {
    const to = Array.isArray(input.to) ? input.to : [input.to];
    if (to.length === 0) throw new TypeError('sendFax needs at least one recipient in `to`.');
    if (input.files.length === 0 && !input.coverPageText) {
      throw new TypeError('sendFax needs at least one file (or a cover page text).');
    }
    const parts: MultipartPart[] = to.map((value) => ({ name: 'to', value }));
    const field = (name: string, value: string | undefined) => {
      if (value !== undefined) parts.push({ name, value });
    };
    field('coverPageText', input.coverPageText);
    field('coverPage', input.coverPage);
    field('resolution', input.resolution);
    field('sendAt', input.sendAt instanceof Date ? input.sendAt.toISOString() : input.sendAt);
    field('schedule', input.schedule);
    if (input.metadata) field('metadata', JSON.stringify(input.metadata));
    for (const f of input.files) parts.push(await filePart(f as FaxFile));
    const { contentType, body } = multipartBody(parts);
    const res = await this.raw('POST', '/v1/faxes', {
      body,
      headers: {
        'content-type': contentType,
        ...(input.idempotencyKey && { 'idempotency-key': input.idempotencyKey }),
      },
      noTimeout: true,
      retries: 0, // a stream cannot be sent twice
    });
    const json = (await res.json()) as unknown;
    return { ...normaliseSubmission(json), replayed: res.headers.get('idempotent-replayed') === 'true' };
  }

  async getFax(id: string): Promise<V1Fax> {
    return this.json<V1Fax>('GET', `/v1/faxes/${enc(id)}`);
  }

  async getFaxEvents(id: string): Promise<V1Page<V1FaxEvent>> {
    return this.json<V1Page<V1FaxEvent>>('GET', `/v1/faxes/${enc(id)}/events`);
  }

  async getBroadcast(id: string): Promise<V1Broadcast> {
    return this.json<V1Broadcast>('GET', `/v1/broadcasts/${enc(id)}`);
  }

  /**
   * Every fax matching the filter, newest first, fetched a page at a time as you iterate:
   * `for await (const fax of client.listFaxes({ status: 'Failed' }))`. `.pages()` iterates pages.
   */
  listFaxes(filter: ListFaxesFilter = {}): AsyncIterable<V1Fax> & { pages(): AsyncIterable<V1Page<V1Fax>> } {
    const pages = async function* (this: FaxflowClient): AsyncGenerator<V1Page<V1Fax>> {
      let cursor: string | null | undefined = filter.cursor;
      do {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries({ ...filter, cursor })) {
          if (v === undefined || v === null || k === 'metadata') continue;
          q.set(k, v instanceof Date ? v.toISOString() : String(v));
        }
        for (const [k, v] of Object.entries(filter.metadata ?? {})) q.set(`metadata[${k}]`, v);
        const qs = q.toString();
        const page = await this.json<V1Page<V1Fax>>('GET', `/v1/faxes${qs ? `?${qs}` : ''}`);
        yield page;
        cursor = page.nextCursor;
      } while (cursor);
    }.bind(this);
    return {
      pages,
      async *[Symbol.asyncIterator]() {
        for await (const page of pages()) yield* page.data;
      },
    };
  }

  /** Cancels a fax not yet transmitted; a fax too far along is a `FaxflowApiError` (409) with the reason. */
  async cancelFax(id: string): Promise<V1Fax> {
    return unwrapFax(await this.json<unknown>('POST', `/v1/faxes/${enc(id)}/cancel`, {}));
  }

  /** Moves the send time of a fax not yet transmitted (409 when it is too late). */
  async rescheduleFax(id: string, sendAt: Date | string): Promise<V1Fax> {
    const at = sendAt instanceof Date ? sendAt.toISOString() : sendAt;
    return unwrapFax(await this.json<unknown>('POST', `/v1/faxes/${enc(id)}/reschedule`, { sendAt: at }));
  }

  /** The transmission report (PDF bytes). */
  async getReport(id: string): Promise<Uint8Array> {
    const res = await this.raw('GET', `/v1/faxes/${enc(id)}/report.pdf`, {
      headers: { accept: 'application/pdf' },
    });
    return new Uint8Array(await res.arrayBuffer());
  }

  /**
   * Resolves with the fax once it reaches a final status, polling with backoff (1 s growing to
   * 30 s, reset whenever the fax changes). `onUpdate` sees every poll. Rejects with
   * `FaxflowApiError('TIMEOUT')` after `timeoutMs`, or the signal's reason when aborted.
   */
  async waitForFax(id: string, opts: WaitForFaxOptions = {}): Promise<V1Fax> {
    const min = opts.minIntervalMs ?? 1000;
    const max = opts.maxIntervalMs ?? 30_000;
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    let interval = min;
    let last = '';
    for (;;) {
      opts.signal?.throwIfAborted();
      const fax = await this.getFax(id);
      opts.onUpdate?.(fax);
      if (isFinalFax(fax)) return fax;
      const fingerprint = `${fax.status}/${fax.attempts.length}/${fax.updatedAt}`;
      interval = fingerprint === last ? Math.min(max, Math.round(interval * 1.6)) : min;
      last = fingerprint;
      const wait = Math.min(interval, deadline - Date.now());
      if (wait <= 0)
        throw new FaxflowApiError('TIMEOUT', 0, `Fax ${id} was still ${fax.status} when the wait ended.`);
      await sleep(wait, opts.signal);
    }
  }

  async listWebhookEndpoints(): Promise<WebhookEndpoint[]> {
    return (await this.json<V1Page<WebhookEndpoint>>('GET', '/v1/webhook-endpoints')).data;
  }

  async createWebhookEndpoint(input: CreateWebhookEndpointInput): Promise<WebhookEndpointWithSecret> {
    return this.json<WebhookEndpointWithSecret>('POST', '/v1/webhook-endpoints', input);
  }

  async deleteWebhookEndpoint(id: string): Promise<void> {
    await this.raw('DELETE', `/v1/webhook-endpoints/${enc(id)}`, {});
  }

  async rotateWebhookSecret(id: string): Promise<WebhookEndpointWithSecret> {
    return this.json<WebhookEndpointWithSecret>('POST', `/v1/webhook-endpoints/${enc(id)}/rotate-secret`, {});
  }

  /** Turns an endpoint disabled after a day of failures back on. */
  async enableWebhookEndpoint(id: string): Promise<WebhookEndpoint> {
    return this.json<WebhookEndpoint>('POST', `/v1/webhook-endpoints/${enc(id)}/enable`, {});
  }

  async listWebhookDeliveries(id: string, opts: { limit?: number; cursor?: string } = {}) {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.cursor) q.set('cursor', opts.cursor);
    const qs = q.toString();
    return this.json<V1Page<WebhookDeliveryLogEntry>>(
      'GET',
      `/v1/webhook-endpoints/${enc(id)}/deliveries${qs ? `?${qs}` : ''}`,
    );
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, {
      ...(body !== undefined && {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }),
    });
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new FaxflowApiError(
        'INVALID_RESPONSE',
        res.status,
        `${method} ${path} answered ${res.status} without JSON.`,
      );
    }
  }

  private async raw(
    method: string,
    path: string,
    o: {
      body?: RequestInit['body'];
      headers?: Record<string, string>;
      noTimeout?: boolean;
      retries?: number;
    },
  ): Promise<Response> {
    const idempotent = method === 'GET' || method === 'DELETE';
    const retries = o.retries ?? (idempotent ? (this.opts.retries ?? 2) : 0);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFn(`${this.base}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.opts.apiKey}`, accept: 'application/json', ...o.headers },
          ...(o.body !== undefined && { body: o.body }),
          ...(o.body instanceof ReadableStream && { duplex: 'half' }),
          ...(!o.noTimeout && { signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) }),
        } as RequestInit);
      } catch (err) {
        if (attempt < retries) {
          await sleep(backoff(attempt));
          continue;
        }
        const timedOut = err instanceof Error && err.name === 'TimeoutError';
        throw new FaxflowApiError(
          timedOut ? 'TIMEOUT' : 'NETWORK_ERROR',
          0,
          `${method} ${path}: ${timedOut ? 'no answer in time' : err instanceof Error ? err.message : String(err)}`,
        );
      }
      if (res.ok) return res;
      const error = await FaxflowApiError.fromResponse(res);
      if (attempt < retries && [429, 502, 503, 504].includes(res.status)) {
        await sleep(
          error.retryAfter !== undefined ? Math.min(error.retryAfter * 1000, 60_000) : backoff(attempt),
        );
        continue;
      }
      throw error;
    }
  }
}

export function createFaxflowClient(opts: FaxflowClientOptions): FaxflowClient {
  return new FaxflowClient(opts);
}

const enc = encodeURIComponent;

function backoff(attempt: number): number {
  return Math.round(250 * 2 ** attempt * (0.8 + 0.4 * Math.random()));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });
}

/** `POST /v1/faxes` answers one fax, a broadcast, or `{ data: [...] }`; the client always gives a list. */
function normaliseSubmission(json: unknown): Omit<SendFaxResult, 'replayed'> {
  const o = json as {
    object?: string;
    faxes?: V1Fax[];
    data?: V1Fax[];
    id?: string;
    broadcastId?: string | null;
  };
  if (o.object === 'fax') return { faxes: [o as V1Fax], broadcastId: (o as V1Fax).broadcastId };
  if (o.object === 'broadcast') return { faxes: o.faxes ?? [], broadcastId: o.id ?? null };
  if (Array.isArray(o.data))
    return { faxes: o.data, broadcastId: o.broadcastId ?? o.data[0]?.broadcastId ?? null };
  throw new FaxflowApiError(
    'INVALID_RESPONSE',
    202,
    'POST /v1/faxes answered a body the client does not know.',
  );
}

/** cancel/reschedule answer the fax, or an outcome with the fax in it. */
function unwrapFax(json: unknown): V1Fax {
  const o = json as { object?: string; fax?: V1Fax };
  if (o.object === 'fax') return o as V1Fax;
  if (o.fax?.object === 'fax') return o.fax;
  throw new FaxflowApiError('INVALID_RESPONSE', 200, 'The answer did not contain the fax.');
}
