import { sql, type Kysely } from 'kysely';

/**
 * `fax_attempts.started_at` bounds the reconcile and adoption windows and the webhook health check,
 * which other processes compare with the database's `now()`: it must come from the same clock, not
 * from whichever worker opened the attempt. The trigger makes that true whatever the insert passes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function fax_attempts_started_at_now() returns trigger language plpgsql as $$
    begin
      new.started_at := now();
      return new;
    end $$`.execute(db);
  await sql`
    create trigger fax_attempts_started_at_now before insert on fax_attempts
    for each row execute function fax_attempts_started_at_now()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists fax_attempts_started_at_now on fax_attempts`.execute(db);
  await sql`drop function if exists fax_attempts_started_at_now()`.execute(db);
}
