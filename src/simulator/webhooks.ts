/**
 * Webhook subscriptions: creation with the Validation-Token handshake, renew/update/delete/get/list,
 * expiry, and message-store notifications in RingCentral's shape (counts and new ids only), with
 * the Verification-Token header, blacklisting after repeated failures, and injected delivery faults.
 */
import { randomUUID } from 'node:crypto';
import type { Scheduler } from './clock';
import { ApiError, notFound } from './errors';
import type { Fax, ChangeKind } from './fax-store';
import type { Faults } from './faults';
import { iso } from './message-record';
import type { ResolvedUser } from './options';
import type { OutboundHttp } from './outbound-http';
import type { Stats } from './stats';
import { WebhookDelivery, type DeliveryLogEntry } from './webhook-delivery';
import {
  matches,
  parseFilter,
  resolveFilter,
  validateSubscription,
  type ParsedFilter,
} from './subscription-filters';

export const DEFAULT_EXPIRES_IN_S = 604_800;
export const HANDSHAKE_TIMEOUT_SIM_MS = 3_000;
/** Real-time floor for handshake/notification timeouts so tiny time scales stay usable over real sockets. */
export const MIN_NETWORK_TIMEOUT_MS = 500;
export const MAX_HANDSHAKE_RESPONSE_BYTES = 1024;

export type SubscriptionStatus = 'Active' | 'Suspended' | 'Blacklisted';

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

export class Webhooks {
  private readonly subs = new Map<string, Subscription>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly http: OutboundHttp,
    private readonly faults: Faults,
    private readonly stats: Stats,
    private readonly baseUrl: () => string,
    private readonly log: (line: string) => void,
    private readonly maxPerUser: number,
  ) {
    this.delivery = new WebhookDelivery(scheduler, http, faults, stats, log, () => this.timeoutMs());
  }

  private readonly delivery: WebhookDelivery;

  reset(): void {
    for (const s of this.subs.values()) {
      s.deleted = true;
      s.cancelHeld?.();
    }
    this.subs.clear();
    this.delivery.clearLog();
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
      eventFilters: s.eventFilters.map((f) => resolveFilter(f, s.user)),
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

  deliveries(): DeliveryLogEntry[] {
    return this.delivery.entries();
  }

  /** /_sim control: RingCentral suspends a subscription (for example after delivery trouble); renew resumes it. */
  suspend(s: Subscription): void {
    if (s.status !== 'Active') return;
    s.status = 'Suspended';
    s.queue.length = 0;
  }

  remove(s: Subscription): void {
    s.deleted = true;
    s.queue.length = 0;
    s.cancelHeld?.();
    this.subs.delete(s.id);
  }

  async create(user: ResolvedUser, body: unknown): Promise<Subscription> {
    const spec = validateSubscription(body, true);
    if (this.list(user).length >= this.maxPerUser)
      throw new ApiError(403, 'SUB-505', 'Subscriptions limit exceeded');
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
    const spec = validateSubscription(body, false);
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

  /** Renewing a Suspended subscription makes it Active again; a Blacklisted one stays Blacklisted. */
  renew(s: Subscription): Subscription {
    if (s.status === 'Suspended') s.status = 'Active';
    s.expiresAt = this.scheduler.now() + this.scheduler.real(s.expiresInS * 1000);
    return s;
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
          // counts and ids are omitted when zero or empty, as RingCentral may do
          changes: [
            kind === 'new'
              ? { type: 'Fax', newCount: 1, newMessageIds: [fax.id] }
              : { type: 'Fax', updatedCount: 1 },
          ],
        },
      });
      this.delivery.dispatch(s, payload);
    }
  }
}
