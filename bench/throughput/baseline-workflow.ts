/**
 * The bare baseline for `npm run bench:throughput`: no fax, no database, no RingCentral, only the
 * Temporal work one delivered fax costs (the same number of activities, timers and signals), so
 * the ratio between the two says what faxflow's own pipeline costs on top of Temporal.
 */
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface BaselineInput {
  activities: number;
  /** Each signal is sent by the last activity, as a webhook's status reaches a waiting FaxWorkflow. */
  signals: number;
}

export interface BaselineActivities {
  noop(): Promise<void>;
  signalMe(workflowId: string, count: number): Promise<void>;
}

export const pokeSignal = defineSignal('poke');

const act = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

export async function BaselineWorkflow(input: BaselineInput & { workflowId: string }): Promise<void> {
  let pokes = 0;
  setHandler(pokeSignal, () => void pokes++);
  for (let i = 1; i < input.activities; i++) await act.noop();
  // The last activity sends the signals while the workflow already waits on a timer that they
  // cancel, as a webhook's status cancels FaxWorkflow's poll timer: one timer started and canceled
  // per workflow, like the fax's. (Awaiting the activity first let the signal arrive before the
  // wait, and a condition that already holds starts no timer: the baseline had none.)
  const signalled = act.signalMe(input.workflowId, input.signals);
  await condition(() => pokes >= input.signals, '10 minutes');
  await signalled;
}
