import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { UploadSlots } from '../../src/activities/send-slots';
import type { DatabaseHandle } from '../../src/db/connection';
import { RingCentralNetworkError } from '../../src/ringcentral/errors';
import type { FaxMessage, SendFaxOptions, SendFaxRequest } from '../../src/ringcentral/types';
import { makeActivityDeps, runActivity, testDatabase, uniqueJobId } from '../support/database';
import { FakeRingCentral } from '../support/fake-ringcentral';
import { makeSamplePdf } from '../support/pdf-fixtures';

/** Every upload hangs until the test lets the ones in flight land; counts how many overlap. */
class HeldUploads extends FakeRingCentral {
  inFlight = 0;
  maxInFlight = 0;
  private held: (() => void)[] = [];

  releaseAll(): void {
    for (const release of this.held.splice(0)) release();
  }

  override async sendFax(request: SendFaxRequest, _opts: SendFaxOptions = {}): Promise<FaxMessage> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise<void>((resolve) => this.held.push(resolve));
    this.inFlight--;
    return super.sendFax(request);
  }
}

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error('condition not met');
}

describe('sendFax uploads per worker (issue 8 #7)', () => {
  it('uploads at most maxConcurrentUploads faxes at once; the others wait their turn', async () => {
    const rc = new HeldUploads();
    const made = await makeActivityDeps(database, rc);
    const deps: ActivityDeps = { ...made.deps, maxConcurrentUploads: 2 };
    const activities = createActivities(deps);
    const pdf = await deps.documents.put(await makeSamplePdf(1), {
      filename: 'letter.pdf',
      contentType: 'application/pdf',
    });
    const sends = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const jobId = uniqueJobId('upload');
        const prepared = await runActivity(activities.prepareFaxJob, {
          jobId,
          workflowId: jobId,
          submittedAt: new Date().toISOString(),
          to: `+1202555016${i}`,
          documents: [pdf],
        });
        if (!prepared.ok) throw new Error(prepared.message);
        return { jobId, attemptNo: 1, recipient: prepared.recipient, documents: prepared.documents };
      }),
    );
    const done = Promise.all(sends.map((args) => runActivity(activities.sendFax, args)));
    let finished = false;
    void done.finally(() => (finished = true));
    // Let the uploads through as they come, until every send has returned.
    while (!finished) {
      await until(() => rc.inFlight > 0 || finished);
      rc.releaseAll();
      await new Promise((r) => setTimeout(r, 5));
    }
    const results = await done;
    expect(results.every((r) => !r.adopted)).toBe(true);
    expect(rc.sent).toHaveLength(5);
    expect(rc.maxInFlight).toBe(2);
  });
});

describe('UploadSlots', () => {
  it('hands slots over in order and lets a waiter leave when its send is cancelled', async () => {
    const slots = new UploadSlots(1);
    const first = await slots.acquire();
    const order: string[] = [];
    const second = slots.acquire().then((release) => {
      order.push('second');
      return release;
    });
    const controller = new AbortController();
    const cancelled = slots.acquire(controller.signal);
    const third = slots.acquire().then((release) => {
      order.push('third');
      return release;
    });
    expect(slots.waiting).toBe(3);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ constructor: RingCentralNetworkError, ambiguous: false });
    expect(slots.waiting).toBe(2);
    first();
    first(); // a second release changes nothing
    (await second)();
    (await third)();
    expect(order).toEqual(['second', 'third']);
    expect(slots.inUse).toBe(0);
    expect(() => new UploadSlots(0)).toThrow(/at least 1/);
  });
});
