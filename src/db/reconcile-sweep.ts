import { sql } from 'kysely';
import type { Db } from './schema';

/** The database's clock: the one every process agrees on. */
export async function databaseNow(db: Db): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
  return new Date(rows[0]!.now);
}

/**
 * Closes the rows of jobs whose workflow ended without recording an outcome (terminated, timed out,
 * or failed by hand): they would otherwise count as in flight for ever and widen every reconcile.
 * The status stays the last one recorded; `error_code` says why the row was closed.
 */
export async function closeJobsOfClosedWorkflows(
  db: Db,
  closed: { workflowId: string; closeStatus: string }[],
): Promise<number> {
  let n = 0;
  for (const { workflowId, closeStatus } of closed) {
    const r = await db
      .updateTable('fax_jobs')
      .set({
        completed_at: sql<Date>`now()`,
        updated_at: sql<Date>`now()`,
        error_code: 'WORKFLOW_CLOSED',
        error_message: `The workflow closed (${closeStatus}) without recording an outcome.`,
      })
      .where('workflow_id', '=', workflowId)
      .where('completed_at', 'is', null)
      .executeTakeFirst();
    n += Number(r.numUpdatedRows);
  }
  return n;
}
