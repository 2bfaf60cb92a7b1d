import type { Client } from '@temporalio/client';

/**
 * A Temporal client whose `signalWithStart` records each signal (the notification processor's only
 * call), or fails as Temporal does when it is down.
 */
export function signalRecordingClient(fail = false) {
  const calls: { workflowId: string; signalArgs: unknown[] }[] = [];
  const client = {
    workflow: {
      signalWithStart: async (_type: string, opts: { workflowId: string; signalArgs: unknown[] }) => {
        if (fail) throw new Error('Temporal is down');
        calls.push({ workflowId: opts.workflowId, signalArgs: opts.signalArgs });
      },
    },
  } as unknown as Client;
  return { client, calls };
}
