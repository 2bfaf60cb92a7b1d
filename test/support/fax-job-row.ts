import type { NewFaxJob } from '../../src/db/schema';

/**
 * A `fax_jobs` row as prepareFaxJob registers one (status Accepted, one 10-byte document set, no
 * message yet): tests that need a job row without running a workflow start from this and override
 * what they look at.
 */
export function faxJobRow(
  id: string,
  overrides: Partial<Omit<NewFaxJob, 'updated_at'>> = {},
): Omit<NewFaxJob, 'updated_at'> {
  return {
    id,
    job_key: id.replace(/^fax-/, ''),
    workflow_id: id,
    connection_id: null,
    recipient: '+12025550123',
    documents: JSON.stringify([]),
    sha256: 'a'.repeat(64),
    size_bytes: 10,
    pages: 1,
    status: 'Accepted',
    message_id: null,
    send_at: null,
    error_code: null,
    error_message: null,
    completed_at: null,
    ...overrides,
  };
}
