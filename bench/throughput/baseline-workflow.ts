/**
 * The bare baseline for `npm run bench:throughput`: no fax, no database, no RingCentral, only the
 * Temporal work one delivered fax costs (the same number of activities, timers and signals), so
 * the ratio between the two says what faxflow's own pipeline costs on top of Temporal.
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
  /** Each signal is sent by the last activity, as a webhook's status reaches a waiting FaxWorkflow. */
  signals: number;
  /**
   * Timers, all started and cancelled as a fax's are (default 1): the signal wait's, and one per
   * further timer watching an activity while it runs, as FaxWorkflow's slow-send timer watches its
   * send and is cancelled when the send answers.
   */
  timers?: number;
}

export interface BaselineActivities {
  noop(): Promise<void>;
  signalMe(workflowId: string, count: number): Promise<void>;
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
  const watchers = Math.max(0, (input.timers ?? 1) - 1);
  for (let i = 1; i < input.activities; i++) await (i <= watchers ? watched(act.noop()) : act.noop());
  // The last activity sends the signals while the workflow already waits on a timer that they
  // cancel, as a webhook's status cancels FaxWorkflow's poll timer: one timer started and canceled
  // per workflow, like the fax's. (Awaiting the activity first let the signal arrive before the
  // wait, and a condition that already holds starts no timer: the baseline had none.)
  const signalled = act.signalMe(input.workflowId, input.signals);
  await condition(() => pokes >= input.signals, '10 minutes');
  await signalled;
}
