import type { RingCentralMessageStatus } from '../domain/fax-status';
import type { Db } from './schema';

/**
 * Credentials whose row this process has seen stored, per database handle. The row is insert-once
 * and never deleted, so once seen it stays true: later delivery reports skip the insert and
 * `accountReportsDelivery` its read (issue 13: one statement per delivered fax otherwise). What was
 * not seen is asked of the database every time: another process may have stored the row since.
 */
const known = new WeakMap<object, Set<string>>();

function knownTo(db: Db): Set<string> {
  let set = known.get(db);
  if (!set) known.set(db, (set = new Set()));
  return set;
}

function remember(db: Db, credentialKey: string): void {
  // A transaction's insert may yet roll back: only what the database itself answered is kept.
  if (db.isTransaction) return;
  const set = knownTo(db);
  // Bounded: a worker holds a few credentials; past that, start over (only costs a statement each).
  if (set.size >= 10_000) set.clear();
  set.add(credentialKey);
}

/**
 * Remembers that this credential's account reports delivery: the first Delivered or DeliveryFailed
 * seen for it. Only the first is kept; later ones change nothing.
 */
export async function recordDeliveryReport(
  db: Db,
  credentialKey: string,
  report: { status: RingCentralMessageStatus; messageId: string },
): Promise<void> {
  if (report.status !== 'Delivered' && report.status !== 'DeliveryFailed') return;
  if (!db.isTransaction && knownTo(db).has(credentialKey)) return;
  await db
    .insertInto('ringcentral_delivery_reports')
    .values({ credential_key: credentialKey, first_status: report.status, message_id: report.messageId })
    .onConflict((oc) => oc.column('credential_key').doNothing())
    .execute();
  // Inserted, or already there (the conflict): either way the row now exists.
  remember(db, credentialKey);
}

/** Whether a Delivered or DeliveryFailed was ever seen for this credential. */
export async function accountReportsDelivery(db: Db, credentialKey: string): Promise<boolean> {
  if (!db.isTransaction && knownTo(db).has(credentialKey)) return true;
  const row = await db
    .selectFrom('ringcentral_delivery_reports')
    .select('credential_key')
    .where('credential_key', '=', credentialKey)
    .executeTakeFirst();
  if (row !== undefined) remember(db, credentialKey);
  return row !== undefined;
}
