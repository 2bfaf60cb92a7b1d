import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/connection';
import { listFaxEvents } from '../../src/db/fax-events';
import { findFaxJob, recordValidation, registerFaxJob } from '../../src/db/fax-jobs';
import { testDatabase } from '../support/database';
import { faxJobRow } from '../support/fax-job-row';

let database: DatabaseHandle;
beforeAll(() => {
  database = testDatabase();
});
afterAll(async () => {
  await database.close();
});

function job(id: string, key: string, recipient = '+12025550123') {
  return faxJobRow(id, { job_key: key, tenant_id: 'default', recipient, pages: null, size_bytes: 1 });
}

describe('registerFaxJob (insert, or the row that is there, in one statement)', () => {
  it('creates the row, gives back the existing one on a retry, and nothing for a key another job holds', async () => {
    const key = `reg-${randomUUID()}`;
    const created = await registerFaxJob(database.db, job(`fax-${key}`, key));
    expect(created).toMatchObject({ id: `fax-${key}`, job_key: key, status: 'Accepted' });

    // A retried registration changes nothing and answers the row as stored.
    const again = await registerFaxJob(database.db, job(`fax-${key}`, key, '+12025559999'));
    expect(again).toMatchObject({ id: `fax-${key}`, recipient: '+12025550123' });

    // The same (tenant, key) under another id: refused, and the first row is untouched.
    expect(await registerFaxJob(database.db, job(`legacy-${key}`, key))).toBeUndefined();
    expect(await findFaxJob(database.db, `legacy-${key}`)).toBeUndefined();
  });
});

describe('recordValidation', () => {
  it('writes what validation learnt and its Validated event together', async () => {
    const key = `val-${randomUUID()}`;
    await registerFaxJob(database.db, job(`fax-${key}`, key, '2025550123'));
    await recordValidation(
      database.db,
      `fax-${key}`,
      { recipient: '+12025550123', pages: 3, documents: [] },
      { pages: 3, totalBytes: 10 },
    );
    expect(await findFaxJob(database.db, `fax-${key}`)).toMatchObject({
      recipient: '+12025550123',
      pages: 3,
    });
    const events = await listFaxEvents(database.db, `fax-${key}`);
    expect(events).toMatchObject([
      { status: 'Validated', source: 'validation', detail: { pages: 3, totalBytes: 10 } },
    ]);
  });

  it('writes no event for a job that has no row', async () => {
    const id = `fax-missing-${randomUUID()}`;
    await recordValidation(database.db, id, { recipient: '+12025550123', pages: 1, documents: [] }, {});
    expect(await listFaxEvents(database.db, id)).toEqual([]);
  });
});
