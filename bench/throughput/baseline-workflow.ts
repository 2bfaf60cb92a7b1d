/**
 * The bare baseline for `npm run bench:throughput`: no fax, no database, no RingCentral, only the
 * Temporal work one delivered fax costs, in the fax's order: the same number of activities, timers
 * and signals, with the activities that follow the status signal after it. So the ratio between the
 * two says what faxflow's own pipeline costs on top of Temporal.
 */
import {
  CancellationScope,
  condition,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
} from '@temporalio/workflow';

export interface BaselineInput {
  activities: number;
  /** Signals from outside, as a fax's status webhook reaches it through the reconciler. */
  signals: number;
  /**
   * Timers, all started and cancelled as a fax's are: the signal wait's, and one per further timer
   * watching an activity while it runs, as FaxWorkflow's slow-send timer watches its send.
   */
  timers: number;
  /** Activities after the signal (a delivered fax: recording the observation, then the outcome). */
  afterSignal: number;
}

export interface BaselineActivities {
  noop(): Promise<void>;
  /** Returns at once; the signals follow from outside the workflow a moment later. */
  signalSoon(workflowId: string, count: number): Promise<void>;
}

export const pokeSignal = defineSignal('poke');

const act = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

/** Runs `work` with a timer that its end cancels. */
async function watched<T>(work: Promise<T>): Promise<T> {
  const watch = new CancellationScope();
  watch.run(() => sleep('5 seconds')).catch(() => undefined);
  try {
    return await work;
  } finally {
    watch.cancel();
  }
}

export async function BaselineWorkflow(input: BaselineInput & { workflowId: string }): Promise<void> {
  let pokes = 0;
  setHandler(pokeSignal, () => void pokes++);
  const before = Math.max(1, input.activities - input.afterSignal);
  const watchers = Math.max(0, input.timers - 1);
  // As a fax: validation, then the send (watched by the slow-send timer), whose message's status
  // comes later by a signal from outside, ending a wait on a timer that it cancels...
  for (let i = 1; i <= before; i++) {
    const step = i === before ? act.signalSoon(input.workflowId, input.signals) : act.noop();
    await (i > before - watchers ? watched(step) : step);
  }
  await condition(() => pokes >= input.signals, '10 minutes');
  // ...then the steps after the status (recording it, then the outcome).
  for (let i = 0; i < input.afterSignal; i++) await act.noop();
}
