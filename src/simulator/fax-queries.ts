/** Message-store list queries: RingCentral's filters over a user's faxes, newest first. */
import type { Fax, ListQuery } from './fax-model';
import type { ResolvedUser } from './options';
import { canonicalNumber } from './outcomes';

export function listFaxes(order: readonly Fax[], user: ResolvedUser, q: ListQuery): Fax[] {
  const out: Fax[] = [];
  const avail = q.availability ?? ['Alive', 'Deleted'];
  for (let i = order.length - 1; i >= 0; i--) {
    const fax = order[i] as Fax;
    if (fax.user !== user) continue;
    if (fax.creationTime < q.dateFrom || fax.creationTime > q.dateTo) continue;
    if (!avail.includes(fax.availability)) continue;
    if (q.direction && !q.direction.includes('Outbound')) continue;
    if (q.messageType && !q.messageType.includes('Fax')) continue;
    if (q.readStatus && !q.readStatus.includes(fax.readStatus)) continue;
    if (q.phoneNumber !== undefined) {
      const want = canonicalNumber(q.phoneNumber);
      const match =
        fax.recipients.some((r) => canonicalNumber(r.phoneNumber) === want) ||
        canonicalNumber(fax.user.phoneNumber) === want;
      if (!match) continue;
    }
    out.push(fax);
  }
  return out;
}
