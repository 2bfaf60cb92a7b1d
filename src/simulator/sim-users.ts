/**
 * /_sim control of accounts, users and subscriptions: each user's status model and permission flags,
 * revoking a user's tokens, suspending a subscription. A user is named by its extension id (unique
 * across accounts), or `~` for the main account's first user; `/_sim/accounts/{accountId}/users/...`
 * names it within one account (`~` there is that account's first user).
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
  accountId: u.accountId,
  extensionId: u.extensionId,
  extensionNumber: u.extensionNumber,
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
  let scope = sim.opts.users;
  const inAccount = /^\/_sim\/accounts\/([^/]+)(\/users(?:\/.*)?)$/.exec(path);
  if (inAccount) {
    const account = sim.opts.accounts.find((a) => a.id === inAccount[1]);
    if (!account) throw notFound('accountId');
    scope = account.users;
    path = `/_sim${inAccount[2] ?? ''}`;
  }
  const findUser = (ext: string): ResolvedUser => {
    const u = scope.find((x) => x.extensionId === ext || (ext === '~' && x === scope[0]));
    if (!u) throw notFound('extensionId');
    return u;
  };
  const body = async (): Promise<unknown> => {
    const r = await readBody(req, 64 * 1024);
    if (!r.ok) throw new ApiError(413, 'CMN-101', 'Body too large');
    return parseJsonBody(r.body) ?? {};
  };
  let m: RegExpExecArray | null;
  if (method === 'GET' && path === '/_sim/accounts') {
    sendJson(res, 200, {
      accounts: sim.opts.accounts.map((a) => ({ id: a.id, name: a.name, users: a.users.map(userView) })),
    });
  } else if (method === 'GET' && path === '/_sim/users') {
    sendJson(res, 200, { users: scope.map(userView) });
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
