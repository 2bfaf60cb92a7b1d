/** GET .../message-sync: full (FSync) and incremental (ISync) synchronisation with a sync token. */
import { checkOwner, DAY_MS, type Ctx } from './api-context';
import { invalidParameter } from './errors';
import type { Fax } from './fax-store';
import { sendJson } from './http-util';
import { iso, toRecord } from './message-record';

export function messageSync(ctx: Ctx): void {
  checkOwner(ctx);
  const { sim } = ctx;
  const q = ctx.url.searchParams;
  const syncType = q.get('syncType') ?? 'FSync';
  const now = sim.scheduler.now();
  const tokenFor = (seq: number): string =>
    Buffer.from(JSON.stringify({ s: seq, e: ctx.user.extensionId })).toString('base64url');
  const recordCount = Number(q.get('recordCount') ?? '250');
  if (!Number.isInteger(recordCount) || recordCount < 1 || recordCount > 250)
    throw invalidParameter('recordCount');
  const types = q.getAll('messageType');
  const wantFax = types.length === 0 || types.includes('Fax');
  let faxes: Fax[];
  let older = false;
  if (syncType === 'FSync') {
    const dateFromRaw = q.get('dateFrom');
    const dateFrom = dateFromRaw === null ? now - 30 * DAY_MS : Date.parse(dateFromRaw);
    if (Number.isNaN(dateFrom)) throw invalidParameter('dateFrom');
    const all = wantFax ? sim.store.list(ctx.user, { dateFrom, dateTo: now + 1 }) : [];
    faxes = all.slice(0, recordCount);
    older = all.length > recordCount;
  } else if (syncType === 'ISync') {
    const raw = q.get('syncToken');
    let since: number | undefined;
    try {
      const t = JSON.parse(Buffer.from(raw ?? '', 'base64url').toString('utf8')) as {
        s?: unknown;
        e?: unknown;
      };
      if (typeof t.s === 'number' && t.e === ctx.user.extensionId) since = t.s;
    } catch {
      since = undefined;
    }
    if (since === undefined) throw invalidParameter('syncToken');
    // ISync also returns deleted and purged messages so clients can drop them
    faxes = wantFax ? sim.store.changedSince(ctx.user, since) : [];
  } else {
    throw invalidParameter('syncType');
  }
  sendJson(
    ctx.res,
    200,
    {
      uri: `${sim.url}${ctx.url.pathname}${ctx.url.search}`,
      records: faxes.map((f) => toRecord(f, sim.url)),
      syncInfo: {
        syncType,
        syncToken: tokenFor(sim.store.currentSeq),
        syncTime: iso(now),
        olderRecordsExist: older,
      },
    },
    ctx.rateHeaders,
  );
}
