import type { RingCentralMessageStatus } from '../../src/domain/fax-status';
import type { FaxMessage, RingCentralClient, SendFaxRequest } from '../../src/ringcentral/types';

/**
 * An in-memory RingCentral for activity tests: it keeps what was sent and lets a test script
 * failures (`failNextSend`) or statuses (`setStatus`). Integration tests use the real simulator.
 */
// Message ids are unique across every fake in the run, as RingCentral's are across an account.
let nextId = Date.now() * 1000;

export class FakeRingCentral implements RingCentralClient {
  readonly sent: { id: string; request: SendFaxRequest }[] = [];
  readonly messages = new Map<string, FaxMessage>();
  listCalls = 0;
  private failures: unknown[] = [];

  failNextSend(err: unknown, opts: { butAccept?: boolean } = {}): void {
    this.failures.push(opts.butAccept ? { acceptThenThrow: err } : err);
  }

  setStatus(id: string, status: RingCentralMessageStatus, faxErrorCode?: string): void {
    const m = this.messages.get(id);
    if (!m) throw new Error(`no message ${id}`);
    m.messageStatus = status;
    m.to = m.to.map((t) => ({ ...t, messageStatus: status, ...(faxErrorCode && { faxErrorCode }) }));
  }

  async sendFax(request: SendFaxRequest): Promise<FaxMessage> {
    const failure = this.failures.shift();
    if (failure && !(typeof failure === 'object' && 'acceptThenThrow' in failure)) throw failure;
    const id = String(nextId++);
    const now = new Date().toISOString();
    const message: FaxMessage = {
      id,
      messageStatus: 'Queued',
      creationTime: now,
      lastModifiedTime: now,
      faxPageCount: 0,
      availability: 'Alive',
      to: request.to.map((t) => ({ phoneNumber: t.phoneNumber, messageStatus: 'Queued' })),
      attachments: request.documents.map((d) => ({ fileName: d.filename })),
      ...(request.coverIndex !== undefined && { coverIndex: request.coverIndex }),
    };
    this.sent.push({ id, request });
    this.messages.set(id, message);
    if (failure) throw (failure as { acceptThenThrow: unknown }).acceptThenThrow;
    return structuredClone(message);
  }

  async getMessage(id: string): Promise<FaxMessage> {
    const m = this.messages.get(id);
    if (!m) throw new Error(`no message ${id}`);
    return structuredClone(m);
  }

  async listOutboundFaxes({ dateFrom }: { dateFrom: Date }): Promise<FaxMessage[]> {
    this.listCalls++;
    return [...this.messages.values()]
      .filter((m) => Date.parse(m.creationTime) >= dateFrom.getTime())
      .reverse()
      .map((m) => structuredClone(m));
  }

  async deleteMessage(id: string): Promise<void> {
    this.messages.delete(id);
  }

  async createSubscription(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async getSubscription(): Promise<undefined> {
    return undefined;
  }

  async renewSubscription(): Promise<never> {
    throw new Error('not used by these tests');
  }

  async deleteSubscription(): Promise<void> {}

  async listSubscriptions(): Promise<never[]> {
    return [];
  }

  async close(): Promise<void> {}
}
