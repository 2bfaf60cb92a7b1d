/**
 * Delivering notifications to one subscription: injected delivery faults (drop, duplicate, delay,
 * reorder), one ordered queue per subscription, the delivery log, and blacklisting after repeated failures.
 */
import type { Scheduler } from './clock';
import type { Faults } from './faults';
import { iso } from './message-record';
import type { OutboundHttp } from './outbound-http';
import type { Stats } from './stats';
import type { Subscription } from './webhooks';

export interface DeliveryLogEntry {
  subscriptionId: string;
  at: string;
  ok: boolean;
  status: number;
  body: string;
}

export class WebhookDelivery {
  private deliveredLog: DeliveryLogEntry[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly http: OutboundHttp,
    private readonly faults: Faults,
    private readonly stats: Stats,
    private readonly log: (line: string) => void,
    private readonly timeoutMs: () => number,
  ) {}

  entries(): DeliveryLogEntry[] {
    return this.deliveredLog;
  }

  clearLog(): void {
    this.deliveredLog = [];
  }

  /** Apply delivery faults, then queue. */
  dispatch(s: Subscription, payload: string): void {
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
