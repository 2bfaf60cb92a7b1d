/** Dispatch of the authenticated REST routes to their handlers. */
import { checkOwner, smallBody, type Ctx } from './api-context';
import { notFound } from './errors';
import { parseJsonBody, sendEmpty, sendJson } from './http-util';
import { deleteMessage, getContent, getMessage, listMessages, updateMessage } from './message-store-handlers';
import { messageSync } from './message-sync';
import type { ResolvedUser } from './options';
import { checkPermissions } from './permissions';
import { sendFax } from './send-handler';

export async function handleApi(ctx: Ctx): Promise<void> {
  const { sim, res, rateHeaders: h } = ctx;
  checkPermissions(ctx.route.handler, ctx.user);
  const subs = sim.webhooks;
  switch (ctx.route.handler) {
    case 'sendFax':
      return sendFax(ctx);
    case 'listMessages':
      return listMessages(ctx);
    case 'getMessage':
      return getMessage(ctx);
    case 'deleteMessage':
      return deleteMessage(ctx);
    case 'updateMessage':
      return updateMessage(ctx);
    case 'getContent':
      return getContent(ctx);
    case 'messageSync':
      return messageSync(ctx);
    case 'getExtension':
      checkOwner(ctx);
      return sendJson(res, 200, extensionInfo(ctx, ctx.user), h);
    case 'createSubscription': {
      const body = parseJsonBody(await smallBody(ctx));
      const s = await subs.create(ctx.user, body);
      return sendJson(res, 200, subs.record(s), h);
    }
    case 'listSubscriptions':
      return sendJson(
        res,
        200,
        {
          uri: `${sim.url}/restapi/v1.0/subscription`,
          records: subs.list(ctx.user).map((s) => subs.record(s)),
        },
        h,
      );
    case 'getSubscription':
      return sendJson(res, 200, subs.record(subs.get(ctx.user, ctx.params[0] ?? '')), h);
    case 'updateSubscription': {
      const s = subs.get(ctx.user, ctx.params[0] ?? '');
      const body = parseJsonBody(await smallBody(ctx));
      return sendJson(res, 200, subs.record(await subs.update(s, body ?? {})), h);
    }
    case 'deleteSubscription':
      subs.remove(subs.get(ctx.user, ctx.params[0] ?? ''));
      return sendEmpty(res, 204, h);
    case 'renewSubscription':
      return sendJson(res, 200, subs.record(subs.renew(subs.get(ctx.user, ctx.params[0] ?? ''))), h);
    default:
      throw notFound('path');
  }
}

function extensionInfo(ctx: Ctx, user: ResolvedUser): unknown {
  const base = ctx.sim.url;
  return {
    uri: `${base}/restapi/v1.0/account/${user.accountId}/extension/${user.extensionId}`,
    id: Number(user.extensionId),
    extensionNumber: user.extensionNumber,
    name: user.name,
    type: 'User',
    status: 'Enabled',
    contact: {
      firstName: user.name,
      email: `ext${user.extensionId}@sim.invalid`,
      businessPhone: user.phoneNumber,
    },
    account: { id: user.accountId, uri: `${base}/restapi/v1.0/account/${user.accountId}` },
    permissions: { admin: { enabled: false }, internationalCalling: { enabled: true } },
  };
}
