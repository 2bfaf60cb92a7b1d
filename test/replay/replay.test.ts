import { randomUUID } from 'node:crypto';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import pino from 'pino';
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
        // Issue 13: continue-as-new (the run that hands over and the one that expires), a carried
        // signal acted on first, Sent then silence, a status buffered before the message id, NeedsReview.
        'continued-as-new-first-run.json',
        'expired-after-continue-as-new.json',
        'continued-run-acts-on-carried-signal.json',
        'sent-unconfirmed.json',
        'early-status-signal-buffered.json',
        'needs-review.json',
        // Issue 8 #9d: a webhooksDown signal wakes the status wait to poll at once
        'webhooks-down-polls-at-once.json',
        // Issue 12: a job's event stream to one endpoint, with dropped deliveries retried
        // (test/events/webhook-delivery.test.ts); a broadcast ending with broadcast.completed.
        'webhook-delivery-retried.json',
        'broadcast-completed-event.json',
        // Issue 13 throughput: input.mergedUpserts (FaxMessageId with the Queued status, no FaxRecipient upsert).
        'signal-delivered-merged-upserts.json',
        'signal-delivered-merged-upserts-sent-final.json',
        // input.quietStatuses: Sending only for a slow send (its timer cancelled otherwise), Sent once.
        'quiet-statuses-sent-final.json',
        'quiet-statuses-slow-send.json',
        'quiet-statuses-redial.json',
        'quiet-statuses-connection-wait.json',
        'signal-delivered-quiet-statuses.json',
        'signal-delivered-quiet-statuses-sent-final.json',
        // A broadcast from faxflow's client: its children start with FaxRecipient and quiet statuses.
        'broadcast-quiet-children.json',
        'broadcast-quiet-children-sent-final.json',
        // input.quietQueued: Queued (with the message id) only once it lasts, shown by a timer of
        // the status wait's own; an outcome within SLOW_SEND_MS is the fax's one upsert.
        'quiet-queued-signal-delivered.json',
        'quiet-queued-shown.json',
        'quiet-queued-redial.json',
        // ...shown before continue-as-new when not shown yet, and never again after Sent in a successor.
        'quiet-queued-shown-before-continue-as-new.json',
        'quiet-queued-sent-continued.json',
        'signal-delivered-quiet-queued.json',
        'signal-delivered-quiet-queued-sent-final.json',
        'broadcast-quiet-queued-children.json',
        'broadcast-quiet-queued-children-sent-final.json',
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

  it('fails when the workflow code itself changes (a bundle built from a modified copy)', async () => {
    // A copy of src/ inside the project (so the bundler finds node_modules) in which FaxWorkflow
    // waits on a timer before validating: a command the recorded histories do not have. Replay of
    // an unchanged history against that bundle must fail, or the replay tests guard nothing.
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const copy = path.join(root, 'scratch', `mutated-${randomUUID()}`);
    try {
      await cp(path.join(root, 'src'), path.join(copy, 'src'), { recursive: true });
      const file = path.join(copy, 'src/workflows/fax-workflow.ts');
      const source = await readFile(file, 'utf8');
      const anchor = '  const prepared = await validation.prepareFaxJob({';
      expect(source).toContain(anchor);
      await writeFile(
        file,
        source
          .replace(anchor, `  await wf.sleep(1);\n${anchor}`)
          .replace(/^/, "import * as wf from '@temporalio/workflow';\n"),
      );
      const mutated = await bundleWorkflowCode({
        workflowsPath: path.join(copy, 'src/workflows/index.ts'),
        logger: pino({ level: 'silent' }) as never,
      });
      const history: unknown = JSON.parse(await readFile(path.join(HISTORIES_DIR, 'delivered.json'), 'utf8'));
      await expect(
        Worker.runReplayHistory({ workflowBundle: { code: mutated.code } }, history, 'mutated-code'),
      ).rejects.toThrow(DeterminismViolationError);
      // The same history against the real bundle replays: the failure above is the mutation's.
      await Worker.runReplayHistory(
        { workflowBundle: { code: inject('workflowCode') } },
        history,
        'unchanged',
      );
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, 180_000);

  it.each(files)('replays %s', async (file) => {
    // Handed over as parsed JSON: the worker converts it with its own copy of the protobuf types.
    const history: unknown = JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { code: inject('workflowCode') } }, history, file);
  });
});
