/** The route table: which handler, which rate-limit group and which authentication each path needs. */
import type { RateGroup } from './rate-limits';

export type AuthKind = 'bearer' | 'client' | 'none';

export interface Route {
  method: string;
  pattern: RegExp;
  /** stable name for stats, e.g. "POST /restapi/v1.0/account/~/extension/~/fax" */
  name: string;
  group: RateGroup;
  auth: AuthKind;
  handler: string;
}

const EXT = String.raw`/restapi/v1\.0/account/([^/]+)/extension/([^/]+)`;

const r = (
  method: string,
  path: string,
  name: string,
  group: RateGroup,
  auth: AuthKind,
  handler: string,
): Route => ({
  method,
  pattern: new RegExp(`^${path}$`),
  name: `${method} ${name}`,
  group,
  auth,
  handler,
});

export const ROUTES: Route[] = [
  r('POST', String.raw`/restapi/oauth/token`, '/restapi/oauth/token', 'Auth', 'client', 'token'),
  r('POST', String.raw`/restapi/oauth/revoke`, '/restapi/oauth/revoke', 'Auth', 'client', 'revoke'),
  r('GET', String.raw`/restapi/oauth/authorize`, '/restapi/oauth/authorize', 'Auth', 'none', 'authorize'),
  r('POST', String.raw`/restapi/oauth/authorize`, '/restapi/oauth/authorize', 'Auth', 'none', 'authorizeDecision'),
  r('POST', `${EXT}/fax`, '/restapi/v1.0/account/~/extension/~/fax', 'Heavy', 'bearer', 'sendFax'),
  r('GET', `${EXT}/message-store`, '/restapi/v1.0/account/~/extension/~/message-store', 'Light', 'bearer', 'listMessages'),
  r('GET', `${EXT}/message-store/([^/]+)`, '/restapi/v1.0/account/~/extension/~/message-store/{id}', 'Light', 'bearer', 'getMessage'),
  r('DELETE', `${EXT}/message-store/([^/]+)`, '/restapi/v1.0/account/~/extension/~/message-store/{id}', 'Medium', 'bearer', 'deleteMessage'),
  r('PUT', `${EXT}/message-store/([^/]+)`, '/restapi/v1.0/account/~/extension/~/message-store/{id}', 'Medium', 'bearer', 'updateMessage'),
  r('PATCH', `${EXT}/message-store/([^/]+)`, '/restapi/v1.0/account/~/extension/~/message-store/{id}', 'Medium', 'bearer', 'updateMessage'),
  r('GET', `${EXT}/message-store/([^/]+)/content/([^/]+)`, '/restapi/v1.0/account/~/extension/~/message-store/{id}/content/{attachmentId}', 'Light', 'bearer', 'getContent'),
  r('GET', `${EXT}/message-sync`, '/restapi/v1.0/account/~/extension/~/message-sync', 'Light', 'bearer', 'messageSync'),
  r('GET', `${EXT}`, '/restapi/v1.0/account/~/extension/~', 'Light', 'bearer', 'getExtension'),
  r('POST', String.raw`/restapi/v1\.0/subscription`, '/restapi/v1.0/subscription', 'Medium', 'bearer', 'createSubscription'),
  r('GET', String.raw`/restapi/v1\.0/subscription`, '/restapi/v1.0/subscription', 'Light', 'bearer', 'listSubscriptions'),
  r('GET', String.raw`/restapi/v1\.0/subscription/([^/]+)`, '/restapi/v1.0/subscription/{id}', 'Light', 'bearer', 'getSubscription'),
  r('PUT', String.raw`/restapi/v1\.0/subscription/([^/]+)`, '/restapi/v1.0/subscription/{id}', 'Medium', 'bearer', 'updateSubscription'),
  r('DELETE', String.raw`/restapi/v1\.0/subscription/([^/]+)`, '/restapi/v1.0/subscription/{id}', 'Medium', 'bearer', 'deleteSubscription'),
  r('POST', String.raw`/restapi/v1\.0/subscription/([^/]+)/renew`, '/restapi/v1.0/subscription/{id}/renew', 'Light', 'bearer', 'renewSubscription'),
]; // prettier-ignore

export type RouteMatch = { route: Route; params: string[] } | { allowed: string[] } | undefined;

export function matchRoute(method: string, path: string): RouteMatch {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    if (route.method === method) return { route, params: m.slice(1).map((p) => safeDecode(p ?? '')) };
    allowed.push(route.method);
  }
  return allowed.length > 0 ? { allowed } : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
