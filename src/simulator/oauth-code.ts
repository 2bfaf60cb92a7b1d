/**
 * The authorization-code request (GET /restapi/oauth/authorize): checks it, then either issues a code
 * at once (auto-approve, as the first user or the `login_hint`'s) or shows an approve/deny page
 * (`interactiveAuthorize`) whose POST issues the code or redirects with `error=access_denied`
 * (RFC 6749 §4.1.2.1). PKCE per RFC 7636: `S256` or `plain` (RingCentral's guide allows plain for
 * clients that cannot hash), checked by the token endpoint.
 */
import type { Scheduler } from './clock';
import { OAuthError } from './errors';
import { CODE_TTL_SIM_MS, invalidClient, safeEqual, token, type AuthCode } from './oauth-model';
import type { ResolvedOptions, ResolvedUser } from './options';

/** A checked authorization request, kept while the approve/deny page is open. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  challenge: string | undefined;
  method: AuthCode['method'];
  state: string | undefined;
  loginHint: string | undefined;
}

export function parseAuthorizeRequest(opts: ResolvedOptions, q: URLSearchParams): AuthorizeRequest {
  const clientId = q.get('client_id');
  if (clientId === null || !safeEqual(clientId, opts.clientId)) throw invalidClient('Invalid client_id');
  if (q.get('response_type') !== 'code')
    throw new OAuthError(400, 'unsupported_response_type', 'OAU-109', 'Only response_type=code is supported');
  const redirectUri = q.get('redirect_uri') ?? '';
  if (!URL.canParse(redirectUri))
    throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [redirect_uri] is invalid');
  const challenge = q.get('code_challenge') ?? undefined;
  const methodRaw = q.get('code_challenge_method');
  let method: AuthCode['method'];
  if (challenge !== undefined) {
    if (methodRaw === null || methodRaw === 'plain') method = 'plain';
    else if (methodRaw === 'S256') method = 'S256';
    else throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Unsupported code_challenge_method');
  }
  return {
    clientId,
    redirectUri,
    challenge,
    method,
    state: q.get('state') ?? undefined,
    loginHint: q.get('login_hint') ?? undefined,
  };
}

/** The user a `login_hint` names (extension id or JWT), else the first user. */
export function hintedUser(opts: ResolvedOptions, hint: string | undefined): ResolvedUser {
  const user =
    opts.users.find((u) => hint !== undefined && (u.extensionId === hint || u.jwt === hint)) ?? opts.users[0];
  if (!user) throw new Error('no users configured');
  return user;
}

/** Issues a code for `user`; returns it and the redirect location (`?code&state`). */
export function issueCode(
  scheduler: Scheduler,
  req: AuthorizeRequest,
  user: ResolvedUser,
): { code: AuthCode; location: string } {
  const code = token('C');
  const entry: AuthCode = {
    code,
    clientId: req.clientId,
    redirectUri: req.redirectUri,
    challenge: req.challenge,
    method: req.method,
    user,
    expiresAt: scheduler.now() + scheduler.real(CODE_TTL_SIM_MS),
  };
  const target = new URL(req.redirectUri);
  target.searchParams.set('code', code);
  if (req.state !== undefined) target.searchParams.set('state', req.state);
  return { code: entry, location: target.toString() };
}

/** Where a denied request goes: `redirect_uri?error=access_denied&error_description&state`. */
export function deniedLocation(req: AuthorizeRequest): string {
  const target = new URL(req.redirectUri);
  target.searchParams.set('error', 'access_denied');
  target.searchParams.set('error_description', 'The user denied the authorization request');
  if (req.state !== undefined) target.searchParams.set('state', req.state);
  return target.toString();
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** The approve/deny page: pick a user of any account, then Approve or Deny. */
export function authorizePage(opts: ResolvedOptions, requestId: string): string {
  const options = opts.accounts
    .flatMap((a) =>
      a.users.map(
        (u) =>
          `<option value="${escapeHtml(u.extensionId)}">${escapeHtml(u.name)} (extension ${escapeHtml(u.extensionNumber)}, ${escapeHtml(a.name)})</option>`,
      ),
    )
    .join('\n        ');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>RingCentral simulator: authorize app</title></head>
  <body>
    <h1>Authorize ${escapeHtml(opts.clientId)}</h1>
    <p>This app asks to send faxes and read messages as the user you choose (RingCentral simulator).</p>
    <form method="post" action="/restapi/oauth/authorize">
      <input type="hidden" name="request_id" value="${escapeHtml(requestId)}">
      <label for="user">Log in as</label>
      <select id="user" name="user">
        ${options}
      </select>
      <button type="submit" id="approve" name="decision" value="approve">Approve</button>
      <button type="submit" id="deny" name="decision" value="deny">Deny</button>
    </form>
  </body>
</html>
`;
}
