/**
 * The message store: accepted faxes, their lifecycle on the simulated clock, deletion/cancellation,
 * listing and sync. Emits a change event for every modification (webhooks and message-sync use it).
 */
import type { Scheduler } from './clock';
import type {
  ChangeKind,
  ChangeListener,
  Fax,
  HistoryEntry,
  ListQuery,
  NewFax,
  Recipient,
} from './fax-model';
import type { ResolvedUser } from './options';
import { listFaxes } from './fax-queries';
import { aggregateStatus, canonicalNumber, planFor, RENDER_SIM_MS, type RecipientStatus } from './outcomes';
import { countPages } from './pages';

export const MAX_PAGES = 200;

export type {
  Availability,
  ChangeKind,
  ChangeListener,
  Fax,
  HistoryEntry,
  ListQuery,
  NewFax,
  Recipient,
  StoredAttachment,
} from './fax-model';

export class FaxStore {
  private readonly faxes = new Map<number, Fax>();
  /** creation order, oldest first */
  private readonly order: Fax[] = [];
  private readonly sendCounts = new Map<string, number>();
  private readonly listeners: ChangeListener[] = [];
  private nextId: number;
  private nextAttachmentId: number;
  private nextRecipientId = 7_000_000_001;
  private seq = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly msPerPage: number,
    private readonly log: (line: string) => void,
  ) {
    // RingCentral message ids are large numbers, unique across the platform. Each simulator starts
    // at its own random block of a million ids, so several simulators (parallel tests sharing one
    // database) never hand out the same id, as RingCentral accounts never do.
    this.nextId = 3_000_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1_000_000 + 1;
    this.nextAttachmentId = 5_000_000_001;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  newAttachmentId(): number {
    return this.nextAttachmentId++;
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** Forget every fax (ids keep increasing so an old id never names a new fax). */
  reset(): void {
    for (const fax of this.order) for (const c of fax.cancelTimers) c();
    this.faxes.clear();
    this.order.length = 0;
    this.sendCounts.clear();
  }

  all(): Fax[] {
    return this.order;
  }

  get(user: ResolvedUser, id: number): Fax | undefined {
    const fax = this.faxes.get(id);
    if (!fax || fax.user !== user || fax.availability === 'Purged') return undefined;
    return fax;
  }

  /** Any fax of the user, purged ones included (for resend validation). */
  getAny(id: number): Fax | undefined {
    return this.faxes.get(id);
  }

  create(req: NewFax): Fax {
    const now = this.scheduler.now();
    const id = this.nextId++;
    const fax: Fax = {
      id,
      user: req.user,
      creationTime: now,
      lastModifiedTime: now,
      messageStatus: 'Queued',
      availability: 'Alive',
      readStatus: 'Read',
      faxResolution: req.faxResolution,
      faxPageCount: 0,
      coverIndex: req.coverIndex,
      defaultCover: req.defaultCover ?? false,
      statusModel: req.user.statusModel,
      coverPageText: req.coverPageText,
      sendTime: req.sendTime,
      attachments: req.attachments,
      recipients: req.recipients.map((r) => {
        const key = canonicalNumber(r.phoneNumber);
        const sendIndex = (this.sendCounts.get(key) ?? 0) + 1;
        this.sendCounts.set(key, sendIndex);
        const rec: Recipient = {
          phoneNumber: r.phoneNumber,
          messageStatus: 'Queued',
          sendIndex,
          recipientId: this.nextRecipientId++,
        };
        if (r.name !== undefined) rec.name = r.name;
        return rec;
      }),
      history: [{ status: 'Queued', at: new Date(now).toISOString() }],
      recipientHistory: [],
      rendered: false,
      transmitting: false,
      cancelled: false,
      resendOf: req.resendOf,
      ambiguous: false,
      seq: ++this.seq,
      cancelTimers: [],
    };
    this.faxes.set(id, fax);
    this.order.push(fax);
    // Hold until sendTime (the wait is a simulated duration, so it is scaled), then render.
    const holdSimMs = req.sendTime !== undefined ? Math.max(0, req.sendTime - now) : 0;
    fax.cancelTimers.push(this.scheduler.afterSim(holdSimMs + RENDER_SIM_MS, () => void this.render(fax)));
    this.emit(fax, 'new');
    return fax;
  }

  private emit(fax: Fax, kind: ChangeKind): void {
    for (const l of this.listeners) {
      try {
        l(fax, kind);
      } catch (e) {
        this.log(`change listener failed: ${String(e)}`);
      }
    }
  }

  private touch(fax: Fax): void {
    const now = this.scheduler.now();
    // keep lastModifiedTime strictly increasing so "changed since" queries never miss a change
    fax.lastModifiedTime = Math.max(now, fax.lastModifiedTime + 1);
    fax.seq = ++this.seq;
  }

  private async render(fax: Fax): Promise<void> {
    if (fax.cancelled || fax.availability !== 'Alive') {
      this.cancel(fax);
      return;
    }
    let pages = 0;
    let failure: string | undefined;
    for (const a of fax.attachments) {
      const count = await countPages(a.kind, a.body, a.sha256);
      if (!count.ok) {
        failure = 'RenderingFailed';
        break;
      }
      pages += count.pages;
    }
    if (fax.coverIndex > 0 || fax.attachments.length === 0) pages += 1;
    // the fax may have been deleted or the store reset while pages were counted
    if (this.faxes.get(fax.id) !== fax) return;
    if (fax.cancelled || fax.availability !== 'Alive') {
      this.cancel(fax);
      return;
    }
    if (failure === undefined && pages > MAX_PAGES) failure = 'TooManyPages';
    fax.rendered = true;
    fax.transmitting = true;
    if (failure !== undefined) {
      for (const r of fax.recipients) this.setRecipient(fax, r, 'SendingFailed', failure);
      this.afterRecipientChange(fax);
      return;
    }
    fax.faxPageCount = pages;
    this.touch(fax);
    this.emit(fax, 'updated');
    for (const r of fax.recipients) {
      const steps = planFor(r.phoneNumber, pages, this.msPerPage, r.sendIndex, fax.statusModel);
      // Each step is scheduled from the one before it, never all at once: under load, timers of
      // nearly equal (scaled) delays can fire out of order, and a status must never go backwards.
      const runFrom = (i: number, prevAtSimMs: number): void => {
        const step = steps[i];
        if (!step) return;
        const apply = (): void => {
          if (this.faxes.get(fax.id) !== fax) return;
          this.setRecipient(fax, r, step.status, step.faxErrorCode);
          this.afterRecipientChange(fax);
          runFrom(i + 1, step.atSimMs);
        };
        const delay = step.atSimMs - prevAtSimMs;
        if (delay <= 0) apply();
        else fax.cancelTimers.push(this.scheduler.afterSim(delay, apply));
      };
      runFrom(0, 0);
    }
  }

  private setRecipient(
    fax: Fax,
    r: Recipient,
    status: RecipientStatus,
    faxErrorCode: string | undefined,
  ): void {
    r.messageStatus = status;
    if (faxErrorCode !== undefined) r.faxErrorCode = faxErrorCode;
    else delete r.faxErrorCode;
    const entry: HistoryEntry = {
      status,
      at: new Date(this.scheduler.now()).toISOString(),
      phoneNumber: r.phoneNumber,
    };
    if (faxErrorCode !== undefined) entry.faxErrorCode = faxErrorCode;
    fax.recipientHistory.push(entry);
  }

  private afterRecipientChange(fax: Fax): void {
    const status = aggregateStatus(fax.recipients.map((r) => r.messageStatus));
    if (status !== fax.messageStatus) {
      fax.messageStatus = status;
      const entry: HistoryEntry = { status, at: new Date(this.scheduler.now()).toISOString() };
      const failed = fax.recipients.find((r) => r.messageStatus === status && r.faxErrorCode !== undefined);
      if (failed?.faxErrorCode !== undefined) entry.faxErrorCode = failed.faxErrorCode;
      fax.history.push(entry);
    }
    this.touch(fax);
    this.emit(fax, 'updated');
  }

  private cancel(fax: Fax): void {
    if (fax.cancelled && fax.history.some((h) => h.status === 'Cancelled')) return;
    fax.cancelled = true;
    for (const c of fax.cancelTimers) c();
    fax.cancelTimers.length = 0;
    fax.history.push({ status: 'Cancelled', at: new Date(this.scheduler.now()).toISOString() });
    this.log(`fax ${fax.id} cancelled before transmission`);
  }

  /** DELETE: first marks Deleted, second (or purge) purges. A fax not yet transmitting is cancelled. */
  delete(fax: Fax, purge: boolean): void {
    if (!fax.transmitting) this.cancel(fax);
    fax.availability = purge || fax.availability === 'Deleted' ? 'Purged' : 'Deleted';
    fax.history.push({ status: fax.availability, at: new Date(this.scheduler.now()).toISOString() });
    this.touch(fax);
    this.emit(fax, 'updated');
  }

  /** availability Alive on a Deleted message brings it back (a cancelled fax stays cancelled). */
  restore(fax: Fax): void {
    if (fax.availability !== 'Deleted') return;
    fax.availability = 'Alive';
    fax.history.push({ status: 'Restored', at: new Date(this.scheduler.now()).toISOString() });
    this.touch(fax);
    this.emit(fax, 'updated');
  }

  update(fax: Fax, patch: { readStatus?: 'Read' | 'Unread' }): void {
    if (patch.readStatus !== undefined && patch.readStatus !== fax.readStatus) {
      fax.readStatus = patch.readStatus;
      this.touch(fax);
      this.emit(fax, 'updated');
    }
  }

  markAmbiguous(fax: Fax): void {
    fax.ambiguous = true;
  }

  /** Newest first, like RingCentral. */
  list(user: ResolvedUser, q: ListQuery): Fax[] {
    return listFaxes(this.order, user, q);
  }

  /** Faxes of the user changed after sequence number `since`, newest change first. */
  changedSince(user: ResolvedUser, since: number): Fax[] {
    return this.order.filter((f) => f.user === user && f.seq > since).sort((a, b) => b.seq - a.seq);
  }
}
