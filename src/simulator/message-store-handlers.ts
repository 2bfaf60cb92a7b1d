/** The message-store routes: list, get (one id or a comma-separated batch), update, delete, content. */
import { randomUUID } from 'node:crypto';
import { checkOwner, DAY_MS, findFax, findFaxById, smallBody, type Ctx } from './api-context';
import { ApiError, invalidParameter, notFound } from './errors';
import type { ListQuery } from './fax-store';
import { parseJsonBody, sendEmpty, sendJson } from './http-util';
import { toRecord } from './message-record';

/** RingCentral clamps larger perPage values instead of refusing them. */
export const MAX_PER_PAGE = 1000;
/** CMN-106 "Batch request is limited to ${limit} entries". */
export const MAX_BATCH_IDS = 30;

export function listMessages(ctx: Ctx): void {
  checkOwner(ctx);
  const { sim } = ctx;
  const q = ctx.url.searchParams;
  const now = sim.scheduler.now();
  const date = (name: string, dflt: number): number => {
    const v = q.get(name);
    if (v === null || v === '') return dflt;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw invalidParameter(name);
    return t;
  };
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = q.get(name);
    if (v === null || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw invalidParameter(name, `Parameter [${name}] must be an integer ${min} or more`);
    return Math.min(n, max);
  };
  const multi = (name: string): string[] | undefined => {
    const all = q
      .getAll(name)
      .flatMap((v) => v.split(','))
      .filter((v) => v !== '');
    return all.length > 0 ? all : undefined;
  };
  const query: ListQuery = { dateFrom: date('dateFrom', now - DAY_MS), dateTo: date('dateTo', now + 1) };
  const direction = multi('direction');
  if (direction) {
    for (const d of direction) if (d !== 'Inbound' && d !== 'Outbound') throw invalidParameter('direction');
    query.direction = direction;
  }
  const messageType = multi('messageType');
  if (messageType) {
    for (const t of messageType)
      if (!['Fax', 'SMS', 'VoiceMail', 'Pager', 'Text'].includes(t)) throw invalidParameter('messageType');
    query.messageType = messageType;
  }
  const availability = multi('availability');
  if (availability) {
    for (const a of availability)
      if (!['Alive', 'Deleted', 'Purged'].includes(a)) throw invalidParameter('availability');
    query.availability = availability;
  }
  const readStatus = multi('readStatus');
  if (readStatus) query.readStatus = readStatus;
  const phone = q.get('phoneNumber');
  if (phone !== null && phone !== '') query.phoneNumber = phone;
  const page = int('page', 1, 1, 1_000_000);
  const perPage = int('perPage', 100, 1, MAX_PER_PAGE);
  const all = sim.store.list(ctx.user, query);
  const totalElements = all.length;
  const totalPages = Math.ceil(totalElements / perPage);
  const start = (page - 1) * perPage;
  const records = all.slice(start, start + perPage).map((f) => toRecord(f, sim.url));
  const base = `${sim.url}${ctx.url.pathname}`;
  const pageUri = (p: number): { uri: string } => {
    const u = new URLSearchParams(q);
    u.set('page', String(p));
    u.set('perPage', String(perPage));
    return { uri: `${base}?${u.toString()}` };
  };
  const paging: Record<string, number> = { page, totalPages, perPage, totalElements };
  if (records.length > 0) {
    paging['pageStart'] = start;
    paging['pageEnd'] = start + records.length - 1;
  }
  const navigation: Record<string, { uri: string }> = { firstPage: pageUri(1) };
  if (page < totalPages) navigation['nextPage'] = pageUri(page + 1);
  if (page > 1) navigation['previousPage'] = pageUri(page - 1);
  navigation['lastPage'] = pageUri(Math.max(1, totalPages));
  sendJson(ctx.res, 200, { uri: `${base}${ctx.url.search}`, records, paging, navigation }, ctx.rateHeaders);
}

export function getMessage(ctx: Ctx): void {
  checkOwner(ctx);
  const raw = ctx.params[2] ?? '';
  if (raw.includes(',')) return getBatch(ctx, raw.split(','));
  sendJson(ctx.res, 200, toRecord(findFax(ctx), ctx.sim.url), ctx.rateHeaders);
}

/**
 * `message-store/1,2,3`: 207 Multi-Status, multipart/mixed; the first part lists each id's status,
 * then one part per id (the record, or its error) in the order asked.
 */
function getBatch(ctx: Ctx, ids: string[]): void {
  if (ids.length > MAX_BATCH_IDS)
    throw new ApiError(400, 'CMN-106', `Batch request is limited to ${MAX_BATCH_IDS} entries`);
  const base = `${ctx.sim.url}${ctx.url.pathname.slice(0, ctx.url.pathname.lastIndexOf('/'))}`;
  const parts = ids.map((id) => {
    try {
      return { id, status: 200, body: toRecord(findFaxById(ctx, id), ctx.sim.url) as unknown };
    } catch (e) {
      const err = e instanceof ApiError ? e : notFound('messageId');
      return { id, status: err.status, body: err.body() as unknown };
    }
  });
  const summary = {
    response: parts.map((p) => ({
      href: `${base}/${p.id}`,
      status: p.status,
      responseDescription: p.status === 200 ? 'OK' : 'Not Found',
    })),
  };
  const boundary = `Boundary_${randomUUID().replace(/-/g, '')}`;
  const chunks = [summary, ...parts.map((p) => p.body)].map(
    (b) => `--${boundary}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(b)}\r\n`,
  );
  const payload = Buffer.from(`${chunks.join('')}--${boundary}--\r\n`);
  ctx.res.writeHead(207, {
    ...ctx.rateHeaders,
    'Content-Type': `multipart/mixed; boundary=${boundary}`,
    'Content-Length': String(payload.length),
  });
  ctx.res.end(payload);
}

export function deleteMessage(ctx: Ctx): void {
  checkOwner(ctx);
  ctx.sim.store.delete(findFax(ctx), ctx.url.searchParams.get('purge') === 'true');
  sendEmpty(ctx.res, 204, ctx.rateHeaders);
}

/** PUT/PATCH: readStatus, and availability (Alive restores a Deleted message, Deleted deletes it). */
export async function updateMessage(ctx: Ctx): Promise<void> {
  checkOwner(ctx);
  const fax = findFax(ctx);
  const body = parseJsonBody(await smallBody(ctx)) as Record<string, unknown> | undefined;
  const rs = body?.['readStatus'];
  if (rs !== undefined && rs !== 'Read' && rs !== 'Unread') throw invalidParameter('readStatus');
  const av = body?.['availability'];
  if (av !== undefined && av !== 'Alive' && av !== 'Deleted') throw invalidParameter('availability');
  if (av === 'Alive') ctx.sim.store.restore(fax);
  if (av === 'Deleted' && fax.availability === 'Alive') ctx.sim.store.delete(fax, false);
  ctx.sim.store.update(fax, rs === undefined ? {} : { readStatus: rs });
  sendJson(ctx.res, 200, toRecord(fax, ctx.sim.url), ctx.rateHeaders);
}

export function getContent(ctx: Ctx): void {
  checkOwner(ctx);
  const fax = findFax(ctx);
  const att = fax.attachments.find((a) => String(a.id) === ctx.params[3]);
  if (!att) throw notFound('attachmentId');
  ctx.res.writeHead(200, {
    ...ctx.rateHeaders,
    'Content-Type': att.contentType,
    'Content-Length': String(att.size),
    'Content-Disposition': `inline; filename="${att.filename}"`,
  });
  ctx.res.end(att.body);
}
