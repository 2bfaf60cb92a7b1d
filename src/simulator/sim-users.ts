/**
 * /_sim control of users and subscriptions: each user's status model and permission flags, revoking a
 * user's tokens, suspending a subscription.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { ApiError, notFound } from './errors';
import { parseJsonBody, readBody, sendJson } from './http-util';
import type { ResolvedUser } from './options';
import { STATUS_MODELS, type StatusModel } from './outcomes';
import type { Simulator } from './server';

const UserPatch = z
  .object({
    statusModel: z.enum(STATUS_MODELS as [StatusModel, ...StatusModel[]]).optional(),
    /** replaces all flags; {} clears them */
    flags: z
      .object({
        faxSendBlocked: z.enum(['MSG-340', 'MSG-341']).optional(),
        missingAppScopes: z.array(z.string()).optional(),
        missingUserPermissions: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const userView = (u: ResolvedUser) => ({
  extensionId: u.extensionId,
  name: u.name,
  phoneNumber: u.phoneNumber,
  statusModel: u.statusModel,
  flags: u.flags,
});

export async function handleUserControl(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
): Promise<void> {
  const findUser = (ext: string): ResolvedUser => {
    const u = sim.opts.users.find((x) => x.extensionId === ext || (ext === '~' && x === sim.opts.users[0]));
    if (!u) throw notFound('extensionId');
    return u;
  };
  const body = async (): Promise<unknown> => {
    const r = await readBody(req, 64 * 1024);
    if (!r.ok) throw new ApiError(413, 'CMN-101', 'Body too large');
    return parseJsonBody(r.body) ?? {};
  };
  let m: RegExpExecArray | null;
  if (method === 'GET' && path === '/_sim/users') {
    sendJson(res, 200, { users: sim.opts.users.map(userView) });
  } else if (method === 'POST' && (m = /^\/_sim\/users\/([^/]+)$/.exec(path))) {
    const user = findUser(m[1] ?? '');
    const parsed = UserPatch.safeParse(await body());
    if (!parsed.success) throw new ApiError(400, 'CMN-101', `Invalid user settings: ${parsed.error.message}`);
    if (parsed.data.statusModel !== undefined) user.statusModel = parsed.data.statusModel;
    if (parsed.data.flags !== undefined) user.flags = { ...parsed.data.flags };
    sendJson(res, 200, userView(user));
  } else if (method === 'POST' && (m = /^\/_sim\/users\/([^/]+)\/revoke$/.exec(path))) {
    const user = findUser(m[1] ?? '');
    sendJson(res, 200, { revokedSessions: sim.oauth.revokeUser(user) });
  } else if (method === 'POST' && (m = /^\/_sim\/subscriptions\/([^/]+)\/suspend$/.exec(path))) {
    const s = sim.webhooks.all().find((x) => x.id === m?.[1]);
    if (!s) throw notFound('subscriptionId');
    sim.webhooks.suspend(s);
    sendJson(res, 200, sim.webhooks.record(s));
  } else {
    throw new ApiError(404, 'CMN-102', `Unknown simulator control path ${method} ${path}`, 'path');
  }
}
