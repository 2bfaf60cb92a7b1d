import { sql, type Kysely } from 'kysely';

/**
 * The send lease (issue 8 #1, #3): which execution may be sending an attempt, until when, and what
 * it sends (credential, recipient, pages) so a retry can wait its turn and tell its fax apart.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('fax_attempts')
    .addColumn('lease_token', 'text')
    .addColumn('lease_until', 'timestamptz')
    .addColumn('credential_key', 'text')
    .addColumn('recipient', 'text')
    .execute();
  // Serves "is another attempt to this number being sent right now?" (partial: only live sends).
  await db.schema
    .createIndex('fax_attempts_sending_recipient_idx')
    .on('fax_attempts')
    .columns(['credential_key', 'recipient'])
    .where(sql.ref('status'), '=', 'Sending')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('fax_attempts_sending_recipient_idx').execute();
  await db.schema
    .alterTable('fax_attempts')
    .dropColumn('lease_token')
    .dropColumn('lease_until')
    .dropColumn('credential_key')
    .dropColumn('recipient')
    .execute();
}
