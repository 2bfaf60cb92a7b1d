/**
 * App and user permissions per route, so a user flag can produce RingCentral's 403s: CMN-401 when the
 * app lacks a permission, CMN-408 when the extension does, MSG-340/341 when it may not send faxes
 * (ringcentral/ringcentral-api-docs docs/basics/errors.md).
 */
import { ApiError } from './errors';
import type { ResolvedUser } from './options';

interface Needs {
  app: string;
  user?: string;
}

const NEEDS: Record<string, Needs> = {
  sendFax: { app: 'Faxes', user: 'OutboundFaxes' },
  listMessages: { app: 'ReadMessages', user: 'ReadMessages' },
  getMessage: { app: 'ReadMessages', user: 'ReadMessages' },
  getContent: { app: 'ReadMessages', user: 'ReadMessages' },
  messageSync: { app: 'ReadMessages', user: 'ReadMessages' },
  deleteMessage: { app: 'EditMessages', user: 'EditMessages' },
  updateMessage: { app: 'EditMessages', user: 'EditMessages' },
  createSubscription: { app: 'SubscriptionWebhook' },
  updateSubscription: { app: 'SubscriptionWebhook' },
  renewSubscription: { app: 'SubscriptionWebhook' },
};

export function checkPermissions(handler: string, user: ResolvedUser): void {
  const needs = NEEDS[handler];
  if (!needs) return;
  if (user.flags.missingAppScopes?.includes(needs.app))
    throw new ApiError(
      403,
      'CMN-401',
      `In order to call this API endpoint, application needs to have [${needs.app}] permission`,
    );
  if (needs.user !== undefined && user.flags.missingUserPermissions?.includes(needs.user))
    throw new ApiError(
      403,
      'CMN-408',
      `In order to call this API endpoint, user needs to have [${needs.user}] permission for requested resource.`,
    );
  if (handler === 'sendFax' && user.flags.faxSendBlocked === 'MSG-340')
    throw new ApiError(403, 'MSG-340', 'Outbound fax is not available for extension type [User]');
  if (handler === 'sendFax' && user.flags.faxSendBlocked === 'MSG-341')
    throw new ApiError(403, 'MSG-341', `Outbound fax is not allowed for extension [${user.extensionId}]`);
}

/** The scope string of a token: the app's permissions less those the flags take away. */
export function scopeFor(user: ResolvedUser, all: string): string {
  const missing = new Set(user.flags.missingAppScopes ?? []);
  return all
    .split(' ')
    .filter((s) => !missing.has(s))
    .join(' ');
}
