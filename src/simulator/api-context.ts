/** What every REST handler receives, and the small checks most of them share. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, notFound } from './errors';
import type { Fax } from './fax-store';
import { readBody } from './http-util';
import type { ResolvedUser } from './options';
import type { Route } from './routes';
import type { Simulator } from './server';

export const SMALL_BODY_CAP = 1024 * 1024;
export const DAY_MS = 24 * 3600 * 1000;

export interface Ctx {
  sim: Simulator;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  route: Route;
  params: string[];
  user: ResolvedUser;
  rateHeaders: Record<string, string>;
}

/** `~` or the caller's own ids; anything else is not found, as RingCentral answers for other extensions. */
export function checkOwner(ctx: Ctx): void {
  const [account, extension] = ctx.params;
  if (account !== '~' && account !== ctx.user.accountId) throw notFound('accountId');
  if (extension !== '~' && extension !== ctx.user.extensionId) throw notFound('extensionId');
}

export async function smallBody(ctx: Ctx): Promise<Buffer> {
  const r = await readBody(ctx.req, SMALL_BODY_CAP);
  if (!r.ok) throw new ApiError(413, 'CMN-101', `Request body exceeds ${SMALL_BODY_CAP} bytes`);
  return r.body;
}

export function findFaxById(ctx: Ctx, raw: string): Fax {
  if (!/^\d{1,16}$/.test(raw)) throw notFound('messageId');
  const fax = ctx.sim.store.get(ctx.user, Number(raw));
  if (!fax) throw notFound('messageId');
  return fax;
}

export function findFax(ctx: Ctx): Fax {
  return findFaxById(ctx, ctx.params[2] ?? '');
}
