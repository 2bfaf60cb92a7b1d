import { condition } from '@temporalio/workflow';
import type { ConnectionUnavailableDetail } from '../contracts/connection-failure';
export { connectionUnavailable } from './connection-failure';
import { bookkeeping } from './fax-activities';
import { jobRef, setStatus, type FaxRun } from './fax-run';
import { applied, WAIT_FOR_CONNECTION } from './fax-patches';

export type ConnectionWaitOutcome = 'restored' | 'expired' | 'canceled';

/**
 * Waits durably until the job's connection works again: a `connectionRestored` signal (sent when
 * the tenant reconnects) ends the wait at once; otherwise `checkConnection` asks every
 * `connectionRecheckMs`. The kill time still applies ('expired'); a cancel ends the wait only when
 * nothing was transmitted yet (`cancellable`). The status before the wait is restored after it.
 */
export async function waitForConnection(
  run: FaxRun,
  unavailable: ConnectionUnavailableDetail,
  cancellable: boolean,
  err: unknown,
): Promise<ConnectionWaitOutcome> {
  if (!applied(run, WAIT_FOR_CONNECTION)) throw err;
  const { state } = run;
  const connectionId = run.input.connectionId ?? unavailable.connectionId;
  const before = { status: state.status, phase: run.phase };
  if (cancellable) run.phase = 'connection-wait';
  setStatus(run, 'WaitingForConnection', { note: unavailable.reason });
  await bookkeeping.recordJobStatus({
    ...jobRef(run),
    status: 'WaitingForConnection',
    errorCode: 'CONNECTION_UNAVAILABLE',
    errorMessage: `The RingCentral connection needs reconnecting (${unavailable.status}): ${unavailable.reason}`,
  });
  run.connectionRestored = false;
  let outcome: ConnectionWaitOutcome | undefined;
  while (!outcome) {
    const wait = Math.min(run.policy.connectionRecheckMs, run.deadline - Date.now());
    if (wait <= 0) {
      outcome = 'expired';
      break;
    }
    state.next = {
      action: 'check the RingCentral connection',
      at: new Date(Date.now() + wait).toISOString(),
    };
    await condition(() => run.connectionRestored || (cancellable && run.cancelRequested), wait, {
      summary: `wait for RingCentral connection ${connectionId} to be reconnected`,
    });
    if (cancellable && run.cancelRequested) outcome = 'canceled';
    else if (run.connectionRestored) outcome = 'restored';
    else if (Date.now() >= run.deadline) outcome = 'expired';
    else if ((await bookkeeping.checkConnection({ connectionId })).active) outcome = 'restored';
  }
  run.phase = before.phase;
  if (outcome !== 'restored') return outcome;
  setStatus(run, before.status, { note: 'the RingCentral connection is back' });
  await bookkeeping.recordJobStatus({
    ...jobRef(run),
    status: before.status,
    errorCode: null,
    errorMessage: null,
    note: 'the RingCentral connection is back',
  });
  return outcome;
}
