/** OAuth state shapes, lifetimes, client authentication and the OAuth error helpers. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { OAuthError } from './errors';
import type { ResolvedOptions, ResolvedUser } from './options';

export const MAX_SESSIONS = 5;
export const ACCESS_TTL_S = 3600;
export const REFRESH_TTL_S = 604_800;
/** simulated ms an old refresh token keeps answering its replacement after the new access token is first used */
export const REFRESH_GRACE_SIM_MS = 10_000;
/** simulated ms an authorization code lives */
export const CODE_TTL_SIM_MS = 60_000;
export const SCOPE = 'Faxes ReadMessages EditMessages SubscriptionWebhook';

export interface Session {
  id: string;
  user: ResolvedUser;
  clientId: string;
  isPublic: boolean;
  createdAt: number;
  ended: boolean;
  endpointId: string;
  accessTtlS: number;
  refreshTtlS: number;
}

export interface AccessToken {
  token: string;
  session: Session;
  expiresAt: number;
  firstUsedAt: number | undefined;
  /** refresh tokens this access token replaced: they die REFRESH_GRACE after its first use */
  supersedes: RefreshToken[];
}

export interface RefreshToken {
  token: string;
  session: Session;
  expiresAt: number;
  /** when set: dies at this time */
  deadline: number | undefined;
  /** the access token issued with this refresh token: refreshing kills it */
  pairedAccess: string;
  /** the pair this refresh token was exchanged for: a repeated refresh answers it again */
  replacement: TokenResponse | undefined;
}

export interface AuthCode {
  code: string;
  clientId: string;
  redirectUri: string;
  challenge: string | undefined;
  method: 'S256' | 'plain' | undefined;
  user: ResolvedUser;
  expiresAt: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  scope: string;
  owner_id: string;
  endpoint_id: string;
  session_id: string;
}

export interface ClientAuth {
  clientId: string;
  confidential: boolean;
}

export const token = (prefix: string): string => `${prefix}${randomBytes(24).toString('base64url')}`;

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Identify the client from Basic auth or a client_id body field. Throws invalid_client. */
export function authenticateClient(
  opts: ResolvedOptions,
  authorization: string | undefined,
  body: URLSearchParams,
): ClientAuth {
  if (authorization !== undefined && /^basic\s/i.test(authorization)) {
    const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const id = colon === -1 ? decoded : decoded.slice(0, colon);
    const secret = colon === -1 ? '' : decoded.slice(colon + 1);
    if (!safeEqual(id, opts.clientId)) throw invalidClient('Invalid client: unknown client_id');
    if (secret === '') return { clientId: id, confidential: false };
    if (!safeEqual(secret, opts.clientSecret)) throw invalidClient('Invalid client: wrong client secret');
    return { clientId: id, confidential: true };
  }
  const id = body.get('client_id');
  if (id === null) throw invalidClient('Client authentication is required (Basic header or client_id)');
  if (!safeEqual(id, opts.clientId)) throw invalidClient('Invalid client: unknown client_id');
  return { clientId: id, confidential: false };
}

export const invalidClient = (d: string): OAuthError => new OAuthError(401, 'invalid_client', 'OAU-153', d);
export const invalidGrant = (d: string): OAuthError => new OAuthError(400, 'invalid_grant', 'OAU-211', d);
