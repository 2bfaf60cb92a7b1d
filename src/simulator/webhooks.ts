/**
 * Webhook subscriptions: creation with the Validation-Token handshake, renew/update/delete/get/list,
 * expiry, and message-store notifications in RingCentral's shape (counts and new ids only), with
 * the Verification-Token header, blacklisting after repeated failures, and injected delivery faults.
 */
import { randomUUID } from 'node:crypto';
import type { Scheduler } from './clock';
import { ApiError, invalidParameter, notFound } from './errors';
import type { Fax, ChangeKind } from './fax-store';
import type { Faults } from './faults';
import { iso } from './message-record';
import type { ResolvedUser } from './options';
import type { OutboundHttp } from './outbound-http';
import type { Stats } from './stats';

export const DEFAULT_EXPIRES_IN_S = 604_800;
export const MAX_EXPIRES_IN_S = 630_720_000;
export const HANDSHAKE_TIMEOUT_SIM_MS = 3_000;
/** Real-time floor for handshake/notification timeouts so tiny time scales stay usable over real sockets. */
export const MIN_NETWORK_TIMEOUT_MS = 500;
export const MAX_HANDSHAKE_RESPONSE_BYTES = 1024;

export type SubscriptionStatus = 'Active' | 'Blacklisted';

interface ParsedFilter {
  raw: string;
  account: string;
  extension: string;
  resource: string;
  query: URLSearchParams;
}

export interface Subscription {
  id: string;
  user: ResolvedUser;
  eventFilters: string[];
  filters: ParsedFilter[];
  address: string;
  verificationToken: string | undefined;
  expiresInS: number;
  expiresAt: number;
  creationTime: number;
  status: SubscriptionStatus;
  consecutiveFailures: number;
  queue: string[];
  sending: boolean;
  held: string | undefined;
  cancelHeld: (() => void) | undefined;
  deleted: boolean;
}

export interface SubscriptionRecord {
  uri: string;
  id: string;
  creationTime: string;
  status: SubscriptionStatus;
  eventFilters: string[];
  expirationTime: string;
  expiresIn: number;
  deliveryMode: { transportType: 'WebHook'; address: string; encryption: false };
}

const FILTER_RE = /^\/restapi\/v1\.0\/account\/(~|\d+)\/extension\/(~|\d+)\/([a-z-]+(?:\/[a-z-]+)*)(\?.*)?$/;
const SUBSCRIPTION_FILTER_RE = /^\/restapi\/v1\.0\/(account\/(~|\d+)\/)?subscription(\/~)?(\?.*)?$/;

export class Webhooks {
  private readonly subs = new Map<string, Subscription>();
  private deliveredLog: Array<{
    subscriptionId: string;
    at: string;
    ok: boolean;
    status: number;
    body: string;
  }> = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly http: OutboundHttp,
    private readonly faults: Faults,
    private readonly stats: Stats,
    private readonly baseUrl: () => string,
    private readonly log: (line: string) => void,
  ) {}

  reset(): void {
    for (const s of this.subs.values()) {
      s.deleted = true;
      s.cancelHeld?.();
    }
    this.subs.clear();
    this.deliveredLog = [];
  }

  private timeoutMs(): number {
    return Math.max(MIN_NETWORK_TIMEOUT_MS, this.scheduler.real(HANDSHAKE_TIMEOUT_SIM_MS));
  }

  record(s: Subscription): SubscriptionRecord {
    return {
      uri: `${this.baseUrl()}/restapi/v1.0/subscription/${s.id}`,
      id: s.id,
      creationTime: iso(s.creationTime),
      status: s.status,
      eventFilters: s.eventFilters,
      expirationTime: iso(s.expiresAt),
      // remaining lifetime in simulated seconds (expirationTime is the real moment)
      expiresIn: Math.max(
        0,
        Math.round((s.expiresAt - this.scheduler.now()) / 1000 / this.scheduler.timeScale),
      ),
      deliveryMode: { transportType: 'WebHook', address: s.address, encryption: false },
    };
  }

  /** Look up a live subscription of the user (expired ones disappear). */
  get(user: ResolvedUser, id: string): Subscription {
    const s = this.subs.get(id);
    if (!s || s.user !== user) throw notFound('subscriptionId');
    if (s.expiresAt <= this.scheduler.now()) {
      this.remove(s);
      throw notFound('subscriptionId');
    }
    return s;
  }

  list(user: ResolvedUser): Subscription[] {
    const now = this.scheduler.now();
    const out: Subscription[] = [];
    for (const s of [...this.subs.values()]) {
      if (s.expiresAt <= now) this.remove(s);
      else if (s.user === user) out.push(s);
    }
    return out;
  }

  all(): Subscription[] {
    return [...this.subs.values()];
  }

  deliveries(): typeof this.deliveredLog {
    return this.deliveredLog;
  }

  remove(s: Subscription): void {
    s.deleted = true;
    s.queue.length = 0;
    s.cancelHeld?.();
    this.subs.delete(s.id);
  }

  async create(user: ResolvedUser, body: unknown): Promise<Subscription> {
    const spec = this.validate(body, true);
    const address = spec.address as string;
    await this.handshake(address);
    const now = this.scheduler.now();
    const expiresInS = spec.expiresIn ?? DEFAULT_EXPIRES_IN_S;
    const s: Subscription = {
      id: randomUUID(),
      user,
      eventFilters: spec.eventFilters as string[],
      filters: (spec.eventFilters as string[]).map(parseFilter),
      address,
      verificationToken: spec.verificationToken,
      expiresInS,
      expiresAt: now + this.scheduler.real(expiresInS * 1000),
      creationTime: now,
      status: 'Active',
      consecutiveFailures: 0,
      queue: [],
      sending: false,
      held: undefined,
      cancelHeld: undefined,
      deleted: false,
    };
    this.subs.set(s.id, s);
    this.log(`subscription ${s.id} created for ${address}`);
    return s;
  }

  async update(s: Subscription, body: unknown): Promise<Subscription> {
    const spec = this.validate(body, false);
    if (spec.address !== undefined && spec.address !== s.address) {
      await this.handshake(spec.address);
      s.address = spec.address;
    }
    if (spec.verificationToken !== undefined) s.verificationToken = spec.verificationToken;
    if (spec.eventFilters !== undefined) {
      s.eventFilters = spec.eventFilters;
      s.filters = spec.eventFilters.map(parseFilter);
    }
    if (spec.expiresIn !== undefined) s.expiresInS = spec.expiresIn;
    s.expiresAt = this.scheduler.now() + this.scheduler.real(s.expiresInS * 1000);
    return s;
  }

  renew(s: Subscription): Subscription {
    s.expiresAt = this.scheduler.now() + this.scheduler.real(s.expiresInS * 1000);
    return s;
  }

  private validate(
    body: unknown,
    creating: boolean,
  ): { eventFilters?: string[]; address?: string; verificationToken?: string; expiresIn?: number } {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw invalidParameter('body', 'A JSON object is required');
    const b = body as Record<string, unknown>;
    const out: { eventFilters?: string[]; address?: string; verificationToken?: string; expiresIn?: number } =
      {};
    if (b['eventFilters'] !== undefined || creating) {
      const f = b['eventFilters'];
      if (!Array.isArray(f) || f.length === 0 || !f.every((x) => typeof x === 'string'))
        throw invalidParameter(
          'eventFilters',
          'Parameter [eventFilters] must be a non-empty array of strings',
        );
      for (const x of f as string[]) {
        if (!FILTER_RE.test(x) && !SUBSCRIPTION_FILTER_RE.test(x))
          throw invalidParameter('eventFilters', `Event filter [${x}] is invalid`);
      }
      out.eventFilters = f as string[];
    }
    const dm = b['deliveryMode'];
    if (dm !== undefined || creating) {
      if (dm === null || typeof dm !== 'object' || Array.isArray(dm)) throw invalidParameter('deliveryMode');
      const d = dm as Record<string, unknown>;
      if (d['transportType'] !== 'WebHook')
        throw invalidParameter('deliveryMode.transportType', 'Only transportType WebHook is simulated');
      const address = d['address'];
      let ok = false;
      if (typeof address === 'string') {
        try {
          const u = new URL(address);
          ok = u.protocol === 'http:' || u.protocol === 'https:';
        } catch {
          ok = false;
        }
      }
      if (!ok)
        throw invalidParameter(
          'deliveryMode.address',
          'Parameter [deliveryMode.address] must be an http(s) URL',
        );
      out.address = address as string;
      const vt = d['verificationToken'];
      if (vt !== undefined) {
        if (typeof vt !== 'string' || vt.length === 0 || vt.length > 64)
          throw invalidParameter(
            'deliveryMode.verificationToken',
            'verificationToken must be a string of 1..64 characters',
          );
        out.verificationToken = vt;
      }
    }
    const e = b['expiresIn'];
    if (e !== undefined) {
      if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > MAX_EXPIRES_IN_S)
        throw invalidParameter(
          'expiresIn',
          `Parameter [expiresIn] must be an integer 1..${MAX_EXPIRES_IN_S}`,
        );
      out.expiresIn = e;
    }
    return out;
  }

  /** POST with a Validation-Token and an empty body; the receiver must echo the token within 3 s. */
  private async handshake(address: string): Promise<void> {
    const token = randomUUID();
    const r = await this.http.post(address, { 'Validation-Token': token }, '', this.timeoutMs(), 64 * 1024);
    const echoed = r.headers['validation-token'];
    const why = !r.ok
      ? (r.error ?? `HTTP ${r.status}`)
      : echoed !== token
        ? 'Validation-Token header was not echoed'
        : Buffer.byteLength(r.body) > MAX_HANDSHAKE_RESPONSE_BYTES
          ? 'validation response is larger than 1 KB'
          : undefined;
    if (why !== undefined) {
      this.log(`webhook validation of ${address} failed: ${why}`);
      throw new ApiError(
        400,
        'SUB-525',
        `The subscription cannot be created: WebHook responds with incorrect HTTP status or HttpHeader Validation-Token (${why})`,
        'deliveryMode.address',
      );
    }
  }

  /** Called by the message store for every change. */
  onFaxChange(fax: Fax, kind: ChangeKind): void {
    if (this.subs.size === 0) return;
    const now = this.scheduler.now();
    for (const s of [...this.subs.values()]) {
      if (s.user !== fax.user) continue;
      if (s.expiresAt <= now) {
        this.remove(s);
        continue;
      }
      if (s.status !== 'Active') continue;
      const filter = s.filters.find((f) => matches(f, fax));
      if (!filter) continue;
      const payload = JSON.stringify({
        uuid: randomUUID(),
        event: `/restapi/v1.0/account/${fax.user.accountId}/extension/${fax.user.extensionId}/message-store`,
        timestamp: iso(now),
        subscriptionId: s.id,
        ownerId: fax.user.extensionId,
        body: {
          accountId: Number(fax.user.accountId),
          extensionId: Number(fax.user.extensionId),
          lastUpdated: iso(fax.lastModifiedTime),
          changes: [
            {
              type: 'Fax',
              newCount: kind === 'new' ? 1 : 0,
              updatedCount: kind === 'updated' ? 1 : 0,
              newMessageIds: kind === 'new' ? [fax.id] : [],
            },
          ],
        },
      });
      this.dispatch(s, payload);
    }
  }

  /** Apply delivery faults, then queue. */
  private dispatch(s: Subscription, payload: string): void {
    const f = this.faults.config;
    if (this.faults.roll(f.webhookDropRate)) {
      this.stats.webhooksDropped++;
      return;
    }
    const copies = this.faults.roll(f.webhookDuplicateRate) ? 2 : 1;
    if (copies === 2) this.stats.webhooksDuplicated++;
    for (let i = 0; i < copies; i++) {
      if (this.faults.roll(f.webhookDelayRate)) {
        this.stats.webhooksDelayed++;
        this.scheduler.afterReal(f.webhookDelayMs, () => this.enqueue(s, payload));
      } else if (s.held === undefined && this.faults.roll(f.webhookReorderRate)) {
        // held back: goes out right after the next notification (or after webhookDelayMs at the latest)
        this.stats.webhooksReordered++;
        s.held = payload;
        s.cancelHeld = this.scheduler.afterReal(Math.max(f.webhookDelayMs, 50), () => this.releaseHeld(s));
      } else {
        this.enqueue(s, payload);
        this.releaseHeld(s);
      }
    }
  }

  private releaseHeld(s: Subscription): void {
    if (s.held === undefined) return;
    const p = s.held;
    s.held = undefined;
    s.cancelHeld?.();
    s.cancelHeld = undefined;
    this.enqueue(s, p);
  }

  private enqueue(s: Subscription, payload: string): void {
    if (s.deleted || s.status !== 'Active') return;
    s.queue.push(payload);
    void this.pump(s);
  }

  private async pump(s: Subscription): Promise<void> {
    if (s.sending) return;
    s.sending = true;
    try {
      while (s.queue.length > 0 && !s.deleted && s.status === 'Active') {
        const payload = s.queue.shift() as string;
        const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
        if (s.verificationToken !== undefined) headers['Verification-Token'] = s.verificationToken;
        const r = await this.http.post(s.address, headers, payload, this.timeoutMs());
        this.deliveredLog.push({
          subscriptionId: s.id,
          at: iso(this.scheduler.now()),
          ok: r.ok,
          status: r.status,
          body: payload,
        });
        if (this.deliveredLog.length > 10_000) this.deliveredLog.splice(0, 5_000);
        if (r.ok) {
          this.stats.webhooksDelivered++;
          s.consecutiveFailures = 0;
        } else {
          this.stats.webhooksFailed++;
          s.consecutiveFailures++;
          this.log(
            `webhook delivery to ${s.address} failed (${r.error ?? `HTTP ${r.status}`}), ${s.consecutiveFailures} in a row`,
          );
          if (s.consecutiveFailures >= this.faults.config.webhookBlacklistAfter) {
            s.status = 'Blacklisted';
            s.queue.length = 0;
            this.stats.subscriptionsBlacklisted++;
            this.log(`subscription ${s.id} blacklisted`);
          }
        }
      }
    } finally {
      s.sending = false;
    }
  }
}

function parseFilter(raw: string): ParsedFilter {
  const m = FILTER_RE.exec(raw);
  if (!m) return { raw, account: '', extension: '', resource: 'subscription', query: new URLSearchParams() };
  return {
    raw,
    account: m[1] ?? '~',
    extension: m[2] ?? '~',
    resource: m[3] ?? '',
    query: new URLSearchParams((m[4] ?? '').replace(/^\?/, '')),
  };
}

function matches(f: ParsedFilter, fax: Fax): boolean {
  if (f.resource !== 'message-store') return false;
  if (f.account !== '~' && f.account !== fax.user.accountId) return false;
  if (f.extension !== '~' && f.extension !== fax.user.extensionId) return false;
  const type = f.query.get('type') ?? f.query.get('messageType');
  if (type !== null && type !== 'Fax') return false;
  const direction = f.query.get('direction');
  if (direction !== null && direction !== 'Outbound') return false;
  return true;
}
