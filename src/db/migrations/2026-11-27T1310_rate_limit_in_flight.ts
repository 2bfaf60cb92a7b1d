import type { Kysely } from 'kysely';

/**
 * Issue 13: a budget slot is counted from when its request ends, not from when it was planned.
 * `in_flight`: the request has left and not ended yet, so RingCentral may count it at any moment.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('rate_limit_events')
    .addColumn('in_flight', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rate_limit_events').dropColumn('in_flight').execute();
}
