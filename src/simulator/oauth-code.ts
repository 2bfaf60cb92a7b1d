/** The authorization-code request (GET /restapi/oauth/authorize): checks it and issues a code (+PKCE). */
import type { Scheduler } from './clock';
import { OAuthError } from './errors';
import { CODE_TTL_SIM_MS, invalidClient, safeEqual, token, type AuthCode } from './oauth-model';
import type { ResolvedOptions } from './options';

/** Auto-approves as the first user (or the login_hint's); returns the code and the redirect location. */
export function authorizeCode(
  opts: ResolvedOptions,
  scheduler: Scheduler,
  q: URLSearchParams,
): { code: AuthCode; location: string } {
  const clientId = q.get('client_id');
  if (clientId === null || !safeEqual(clientId, opts.clientId)) throw invalidClient('Invalid client_id');
  if (q.get('response_type') !== 'code')
    throw new OAuthError(400, 'unsupported_response_type', 'OAU-109', 'Only response_type=code is supported');
  const redirectUri = q.get('redirect_uri');
  let target: URL;
  try {
    target = new URL(redirectUri ?? '');
  } catch {
    throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [redirect_uri] is invalid');
  }
  const challenge = q.get('code_challenge') ?? undefined;
  const methodRaw = q.get('code_challenge_method');
  let method: AuthCode['method'];
  if (challenge !== undefined) {
    if (methodRaw === null || methodRaw === 'plain') method = 'plain';
    else if (methodRaw === 'S256') method = 'S256';
    else throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Unsupported code_challenge_method');
  }
  const hint = q.get('login_hint');
  const user =
    opts.users.find((u) => hint !== null && (u.extensionId === hint || u.jwt === hint)) ?? opts.users[0];
  if (!user) throw new Error('no users configured');
  const code = token('C');
  const entry: AuthCode = {
    code,
    clientId,
    redirectUri: redirectUri ?? '',
    challenge,
    method,
    user,
    expiresAt: scheduler.now() + scheduler.real(CODE_TTL_SIM_MS),
  };
  target.searchParams.set('code', code);
  const state = q.get('state');
  if (state !== null) target.searchParams.set('state', state);
  return { code: entry, location: target.toString() };
}
