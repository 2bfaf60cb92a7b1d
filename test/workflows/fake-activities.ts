import { ApplicationFailure } from '@temporalio/common';
import type { FaxActivities } from '../../src/activities';
import { CONNECTION_UNAVAILABLE } from '../../src/contracts/connection-failure';
import type { RingCentralMessageStatus } from '../../src/domain/fax-status';

type Step = { status: RingCentralMessageStatus; faxErrorCode?: string };

/** Points where a test holds an activity until it has done something (an update, a cancel). */
export interface FakeHooks {
  /** Awaited inside prepareFaxJob before it answers. */
  beforePrepare?: () => Promise<void>;
  /** Awaited inside recordJobStatus before it records `status`. */
  beforeRecord?: (status: string) => Promise<void>;
  /** What cancelScheduledFax answers (or throws); default: deleted. */
  cancelScheduled?: () => Promise<{ canceled: true } | { canceled: false; reason: string }>;
}

/** A promise that a test resolves by hand, with a flag that says whether it was reached. */
export function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const wasReached = new Promise<void>((r) => (reached = r));
  return {
    /** Called by the fake: marks the gate reached and waits until it is opened. */
    pass: async () => {
      reached();
      await opened;
    },
    reached: wasReached,
    open,
  };
}

/**
 * Activities with no I/O for time-skipping tests: each send gets a message whose statuses follow
 * the next script in `outcomes` (one status per poll; the last one repeats).
 */
export interface FakeAccount {
  /** The account does not report delivery: Sent is final (what readFaxStatus/recordFaxObservation answer). */
  sentIsFinal?: boolean;
  /** What sendFax reports about webhooks: healthy means the next poll is 10 min away. */
  webhooksHealthy?: boolean;
  /** Runs while sendFax is in flight (e.g. a webhook's signal arrives before the message id is known). */
  duringSend?: (messageId: string) => Promise<void>;
  /** Makes sendFax throw this instead of sending (e.g. the NeedsReview failure of an unresolvable cut-off send). */
  sendThrows?: (attemptNo: number) => Error | undefined;
  /**
   * The job's RingCentral connection needs reconnecting while this returns false: sendFax and
   * readFaxStatus fail with ConnectionUnavailable and checkConnection answers inactive.
   */
  connectionActive?: () => boolean;
}

export function fakeActivities(outcomes: Step[][], account: FakeAccount & FakeHooks = {}) {
  const hooks = account;
  const decision = (status: RingCentralMessageStatus) =>
    status === 'Sent' ? { sentIsFinal: account.sentIsFinal === true } : {};
  const sends: { attemptNo: number; sendTime?: string; coverIndex?: number }[] = [];
  const recorded: { status: string; errorCode?: string }[] = [];
  const canceledMessages: string[] = [];
  const observations: { status: string; source: string }[] = [];
  const broadcastsCompleted: { broadcastId: string; tenantId: string | null; jobIds: string[] }[] = [];
  const scripts = new Map<string, Step[]>();
  let polls = 0;
  const connectionChecks: string[] = [];
  const unavailable = () =>
    ApplicationFailure.create({
      type: CONNECTION_UNAVAILABLE,
      nonRetryable: true,
      message: 'RingCentral connection c1 is needs-reconnect: RingCentral refused the refresh token',
      details: [
        { connectionId: 'c1', status: 'needs-reconnect', reason: 'RingCentral refused the refresh token' },
      ],
    });
  const connectionDown = () => account.connectionActive !== undefined && !account.connectionActive();

  const activities: FaxActivities = {
    async prepareFaxJob(args) {
      await hooks.beforePrepare?.();
      if (args.to === 'bad')
        return { ok: false, code: 'INVALID_NUMBER', message: '"bad" is not a phone number.' };
      return { ok: true, recipient: args.to, documents: args.documents, pages: 1, totalBytes: 100 };
    },
    async sendFax(args) {
      if (connectionDown()) throw unavailable();
      sends.push({
        attemptNo: args.attemptNo,
        ...(args.sendTime && { sendTime: args.sendTime }),
        ...(args.coverIndex !== undefined && { coverIndex: args.coverIndex }),
      });
      const failure = account.sendThrows?.(args.attemptNo);
      if (failure) throw failure;
      const messageId = `m${args.attemptNo}`;
      scripts.set(messageId, [
        ...(outcomes[sends.length - 1] ?? outcomes[outcomes.length - 1] ?? [{ status: 'Delivered' }]),
      ]);
      await account.duringSend?.(messageId);
      return {
        messageId,
        status: 'Queued',
        adopted: false,
        ...(account.webhooksHealthy && { webhooksHealthy: true }),
      };
    },
    async readFaxStatus(args) {
      if (connectionDown()) throw unavailable();
      polls++;
      const script = scripts.get(args.messageId)!;
      const step = script.length > 1 ? script.shift()! : script[0]!;
      return { ...step, ...decision(step.status) };
    },
    async checkFaxStatus(args) {
      return activities.readFaxStatus(args);
    },
    async recordFaxObservation(args) {
      observations.push({ status: args.observation.status, source: args.source });
      return decision(args.observation.status);
    },
    async recordJobStatus(args) {
      await hooks.beforeRecord?.(args.status);
      recorded.push({ status: args.status, ...(args.errorCode && { errorCode: args.errorCode }) });
    },
    async checkConnection(args) {
      connectionChecks.push(args.connectionId);
      return { active: !connectionDown() };
    },
    async ensureSubscription() {
      throw new Error('not used by FaxWorkflow');
    },
    async reconcileFaxStatuses() {
      throw new Error('not used by FaxWorkflow');
    },
    async deliverWebhook() {
      throw new Error('not used by FaxWorkflow');
    },
    async recordBroadcastCompleted(args) {
      broadcastsCompleted.push(args);
    },
    async cancelScheduledFax(args) {
      const answer = hooks.cancelScheduled ? await hooks.cancelScheduled() : ({ canceled: true } as const);
      if (answer.canceled) canceledMessages.push(args.messageId);
      return answer;
    },
  };
  return {
    activities,
    sends,
    recorded,
    canceledMessages,
    observations,
    broadcastsCompleted,
    connectionChecks,
    polls: () => polls,
  };
}
