/** The OAuth routes (token, revoke, authorize) and the token faults that only they meet. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAuthError } from './errors';
import { readBody, sendEmpty, sendHtml, sendJson } from './http-util';
import type { Route } from './routes';
import type { Simulator } from './server';

export async function handleAuthRoute(
  sim: Simulator,
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
  headers: Record<string, string>,
): Promise<void> {
  if (route.handler === 'authorize') {
    const answer = sim.oauth.authorize(url.searchParams);
    if ('location' in answer) sendEmpty(res, 302, { ...headers, Location: answer.location });
    else sendHtml(res, 200, answer.page, headers);
    return;
  }
  if (route.handler === 'authorizeDecision') {
    const r = await readBody(req, 64 * 1024);
    if (!r.ok) throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Request body too large');
    const location = sim.oauth.decide(new URLSearchParams(r.body.toString('utf8')));
    sendEmpty(res, 302, { ...headers, Location: location });
    return;
  }
  const ct = req.headers['content-type'] ?? '';
  if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded'))
    throw new OAuthError(
      400,
      'invalid_request',
      'OAU-109',
      'Content-Type must be application/x-www-form-urlencoded',
    );
  const form = new URLSearchParams(body.toString('utf8'));
  const client = sim.oauth.authenticateClient(req.headers.authorization, form);
  if (route.handler === 'token') {
    if (form.get('grant_type') === 'refresh_token' && sim.faults.takeRefreshInvalidGrant()) {
      sim.stats.injectedInvalidGrant++;
      throw new OAuthError(400, 'invalid_grant', 'OAU-211', 'Token is revoked');
    }
    const token = sim.oauth.token(client, form);
    sendJson(res, 200, token, { ...headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    return;
  }
  sim.oauth.revoke(client, form);
  sendEmpty(res, 200, headers);
}

/** The rate-limit key of a client-authenticated call: its client id, from Basic auth or the body. */
export function clientKey(authorization: string | undefined, body: Buffer): string | undefined {
  if (authorization !== undefined && /^basic\s/i.test(authorization)) {
    const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    return `client:${decoded.split(':')[0] ?? ''}`;
  }
  const id = new URLSearchParams(body.toString('utf8')).get('client_id');
  return id !== null ? `client:${id}` : undefined;
}
