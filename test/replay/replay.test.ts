import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { describe, expect, it, inject } from 'vitest';
import { HISTORIES_DIR } from '../support/test-stack';

/**
 * Every committed history must replay against today's workflow code without a non-determinism
 * error. A change that would break running workflows fails here; gate it with `patched()`.
 * Histories are re-recorded with `FAXFLOW_RECORD_HISTORIES=1 npx vitest run test/integration` (and
 * `test/workflows/timers.test.ts` for the paths only time skipping reaches).
 */
const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();

describe('workflow replay', () => {
  it('has a committed history for every path', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'delivered.json',
        'busy-then-delivered.json',
        'invalid-number.json',
        'rejected.json',
        'scheduled-then-canceled.json',
        'rescheduled.json',
        'ambiguous-send-adopted.json',
        'rate-limited.json',
        'broadcast-partial-success.json',
        'signal-delivered.json',
        // Recorded after the workflow-records-polls patch: polls read, then recordFaxObservation.
        'delivered-workflow-records-polls.json',
        'busy-then-delivered-workflow-records-polls.json',
        // Recorded with the code from before 693fe4c: a UI cancel followed a held fax to its end.
        'held-canceled-before-deletion.json',
        // Recorded by test/workflows/timers.test.ts (FAXFLOW_RECORD_HISTORIES=1), time-skipping server.
        'cancel-while-recording-delivered.json',
        'invalid-send-at.json',
        'held-cancel-refused-then-delivered.json',
        'broadcast-tilde-children.json',
        // Issue 8: the keeper backing off after a failed handshake (patch subscription-keeps-trying),
        // then recreating a vanished subscription; the reconciler passing its credential.
        'subscription-vanished-recreated.json',
        'reconcile-webhooks.json',
        // Issue 12: a job's event stream to one endpoint, with dropped deliveries retried
        // (test/events/webhook-delivery.test.ts); a broadcast ending with broadcast.completed.
        'webhook-delivery-retried.json',
        'broadcast-completed-event.json',
      ]),
    );
  });

  it('fails when the code no longer matches a history', async () => {
    // The history of a workflow whose first activity had another name: today's code schedules
    // prepareFaxJob instead, which replay must report as non-determinism.
    const history = JSON.parse(await readFile(path.join(HISTORIES_DIR, 'delivered.json'), 'utf8')) as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
    };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'validateDocuments';
    await expect(
      Worker.runReplayHistory({ workflowBundle: { code: inject('workflowCode') } }, history, 'mutated'),
    ).rejects.toThrow(DeterminismViolationError);
  });

  it.each(files)('replays %s', async (file) => {
    // Handed over as parsed JSON: the worker converts it with its own copy of the protobuf types.
    const history: unknown = JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { code: inject('workflowCode') } }, history, file);
  });
});
