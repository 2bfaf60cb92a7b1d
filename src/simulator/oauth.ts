/**
 * OAuth: JWT, refresh and authorization-code (+PKCE) grants; revoke; bearer validation; at most
 * MAX_SESSIONS live sessions per user and app.
 *
 * Refresh follows docs/authentication/refresh-tokens.md (ringcentral/ringcentral-api-docs): the old
 * access token stops working at once; the same refresh token used again answers the same pair until
 * about ten seconds after the new access token is first used; after that it is invalid_grant.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Scheduler } from './clock';
import { ApiError, OAuthError } from './errors';
import {
  authorizePage,
  deniedLocation,
  hintedUser,
  issueCode,
  parseAuthorizeRequest,
  type AuthorizeRequest,
} from './oauth-code';
import {
  ACCESS_TTL_S,
  authenticateClient,
  invalidClient,
  invalidGrant,
  MAX_SESSIONS,
  REFRESH_GRACE_SIM_MS,
  REFRESH_TTL_S,
  safeEqual,
  SCOPE,
  token,
  type AccessToken,
  type AuthCode,
  type ClientAuth,
  type RefreshToken,
  type Session,
  type TokenResponse,
} from './oauth-model';
import type { ResolvedOptions, ResolvedUser } from './options';
import { scopeFor } from './permissions';

/** simulated ms an approve/deny page stays usable */
const PAGE_TTL_SIM_MS = 600_000;

export { ACCESS_TTL_S, MAX_SESSIONS, REFRESH_TTL_S, SCOPE } from './oauth-model';
export type { ClientAuth, TokenResponse } from './oauth-model';

export class OAuthServer {
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();
  private readonly codes = new Map<string, AuthCode>();
  /** authorization requests whose approve/deny page is open, by request id (single use) */
  private readonly pending = new Map<string, { req: AuthorizeRequest; expiresAt: number }>();
  private sessions: Session[] = [];
  private sessionCounter = 0;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly scheduler: Scheduler,
  ) {}

  reset(): void {
    this.access.clear();
    this.refresh.clear();
    this.codes.clear();
    this.pending.clear();
    this.sessions = [];
  }

  /** Identify the client from Basic auth or a client_id body field. Throws invalid_client. */
  authenticateClient(authorization: string | undefined, body: URLSearchParams): ClientAuth {
    return authenticateClient(this.opts, authorization, body);
  }

  /** Handle POST /restapi/oauth/token. */
  token(client: ClientAuth, body: URLSearchParams): TokenResponse {
    const grant = body.get('grant_type');
    switch (grant) {
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
        return this.jwtGrant(client, body);
      case 'refresh_token':
        return this.refreshGrant(client, body);
      case 'authorization_code':
        return this.codeGrant(client, body);
      case null:
        throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [grant_type] is required');
      default:
        throw new OAuthError(400, 'unsupported_grant_type', 'OAU-250', `Unsupported grant type [${grant}]`);
    }
  }

  private jwtGrant(client: ClientAuth, body: URLSearchParams): TokenResponse {
    if (!client.confidential) throw invalidClient('JWT grant requires a confidential client (client secret)');
    const assertion = body.get('assertion');
    if (assertion === null)
      throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [assertion] is required');
    const user = this.opts.users.find((u) => safeEqual(u.jwt, assertion));
    if (!user) throw new OAuthError(400, 'invalid_grant', 'OAU-140', 'Invalid JWT assertion');
    const session = this.newSession(user, client, body);
    return this.issue(session, []);
  }

  private refreshGrant(client: ClientAuth, body: URLSearchParams): TokenResponse {
    const value = body.get('refresh_token');
    if (value === null)
      throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [refresh_token] is required');
    const rt = this.refresh.get(value);
    const now = this.scheduler.now();
    if (!rt || rt.session.ended) throw invalidGrant('Token not found');
    if (rt.session.clientId !== client.clientId) throw invalidGrant('Token was issued to another client');
    if (!rt.session.isPublic && !client.confidential)
      throw invalidClient('Client secret is required for this token');
    if (rt.expiresAt <= now) throw new OAuthError(400, 'invalid_grant', 'OAU-210', 'Token expired');
    if (rt.deadline !== undefined && rt.deadline <= now) {
      this.refresh.delete(value);
      throw invalidGrant('Token is revoked');
    }
    if (rt.replacement !== undefined) {
      // the replacement may itself have been refreshed since: then there is no live pair to give
      const next = this.refresh.get(rt.replacement.refresh_token);
      if (!next || next.replacement !== undefined) throw invalidGrant('Token is revoked');
      return rt.replacement;
    }
    const ttl = body.get('refresh_token_ttl');
    if (ttl !== null && Number(ttl) > 0)
      rt.session.refreshTtlS = Math.max(3600, Math.min(Math.floor(Number(ttl)), REFRESH_TTL_S));
    if (this.opts.refreshKillsOldAccessToken) this.access.delete(rt.pairedAccess);
    rt.replacement = this.issue(rt.session, [rt]);
    return rt.replacement;
  }

  private codeGrant(client: ClientAuth, body: URLSearchParams): TokenResponse {
    const code = body.get('code');
    if (code === null)
      throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [code] is required');
    const entry = this.codes.get(code);
    this.codes.delete(code); // single use, whatever happens next
    if (!entry || entry.expiresAt <= this.scheduler.now())
      throw invalidGrant('Authorization code is invalid or expired');
    if (entry.clientId !== client.clientId)
      throw invalidGrant('Authorization code was issued to another client');
    const redirect = body.get('redirect_uri');
    if (redirect !== entry.redirectUri)
      throw invalidGrant('redirect_uri does not match the authorization request');
    const verifier = body.get('code_verifier');
    if (entry.challenge !== undefined) {
      if (verifier === null) throw invalidGrant('code_verifier is required');
      const computed =
        entry.method === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
      if (!safeEqual(computed, entry.challenge))
        throw invalidGrant('code_verifier does not match code_challenge');
    } else if (!client.confidential) {
      throw invalidClient('Client secret is required without PKCE');
    }
    const session = this.newSession(entry.user, client, body);
    return this.issue(session, []);
  }

  /**
   * GET /restapi/oauth/authorize: auto-approves (as the `login_hint`'s user, else the first) and
   * answers the redirect location; with `interactiveAuthorize` and no `login_hint`, answers the
   * approve/deny page instead.
   */
  authorize(q: URLSearchParams): { location: string } | { page: string } {
    const req = parseAuthorizeRequest(this.opts, q);
    if (this.opts.interactiveAuthorize && req.loginHint === undefined) {
      const id = token('P');
      const now = this.scheduler.now();
      for (const [k, v] of this.pending) if (v.expiresAt <= now) this.pending.delete(k);
      this.pending.set(id, { req, expiresAt: now + this.scheduler.real(PAGE_TTL_SIM_MS) });
      return { page: authorizePage(this.opts, id) };
    }
    return { location: this.approve(req, hintedUser(this.opts, req.loginHint)) };
  }

  /** POST /restapi/oauth/authorize (the page's form): Approve issues a code, Deny `access_denied`. */
  decide(form: URLSearchParams): string {
    const id = form.get('request_id') ?? '';
    const entry = this.pending.get(id);
    this.pending.delete(id); // one decision per page
    if (!entry || entry.expiresAt <= this.scheduler.now())
      throw new OAuthError(
        400,
        'invalid_request',
        'OAU-109',
        'The authorization page expired or was already used',
      );
    const decision = form.get('decision');
    if (decision === 'deny') return deniedLocation(entry.req);
    if (decision !== 'approve')
      throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [decision] must be approve or deny');
    const user = this.opts.users.find((u) => u.extensionId === form.get('user'));
    if (!user) throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [user] names no user');
    return this.approve(entry.req, user);
  }

  private approve(req: AuthorizeRequest, user: ResolvedUser): string {
    const { code, location } = issueCode(this.scheduler, req, user);
    this.codes.set(code.code, code);
    return location;
  }

  /** POST /restapi/oauth/revoke: ends the session holding the token (unknown tokens are ignored). */
  revoke(client: ClientAuth, body: URLSearchParams): void {
    const value = body.get('token');
    if (value === null)
      throw new OAuthError(400, 'invalid_request', 'OAU-109', 'Parameter [token] is required');
    const session = this.access.get(value)?.session ?? this.refresh.get(value)?.session;
    if (session && session.clientId === client.clientId) this.endSession(session);
  }

  /** Validate a bearer header; returns the user. Throws 401 in RingCentral's API error shape. */
  authenticate(authorization: string | undefined): ResolvedUser {
    if (authorization === undefined || authorization === '')
      throw new ApiError(401, 'OAU-123', 'Authorization header is not specified');
    const m = /^bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m || m[1] === undefined) throw new ApiError(401, 'OAU-123', 'Authorization header is malformed');
    const at = this.access.get(m[1]);
    if (!at || at.session.ended) throw new ApiError(401, 'OAU-213', 'Token not found');
    const now = this.scheduler.now();
    if (at.expiresAt <= now) throw new ApiError(401, 'OAU-213', 'Access token expired');
    if (at.firstUsedAt === undefined) {
      at.firstUsedAt = now;
      const deadline = now + this.scheduler.real(REFRESH_GRACE_SIM_MS);
      for (const rt of at.supersedes)
        if (rt.deadline === undefined || rt.deadline > deadline) rt.deadline = deadline;
      at.supersedes = [];
    }
    return at.session.user;
  }

  /** End every session of the user (as a password change or an admin's revoke would). Returns how many. */
  revokeUser(user: ResolvedUser): number {
    const live = this.sessions.filter((s) => !s.ended && s.user === user);
    for (const s of live) this.endSession(s);
    return live.length;
  }

  liveSessions(): number {
    return this.sessions.filter((s) => !s.ended).length;
  }

  private newSession(user: ResolvedUser, client: ClientAuth, body: URLSearchParams): Session {
    const ttl = (name: string, max: number, min: number): number => {
      const v = body.get(name);
      const n = v === null ? NaN : Number(v);
      return Number.isFinite(n) && n > 0 ? Math.max(min, Math.min(Math.floor(n), max)) : max;
    };
    const session: Session = {
      id: `S${++this.sessionCounter}`,
      user,
      clientId: client.clientId,
      isPublic: !client.confidential,
      createdAt: this.scheduler.now(),
      ended: false,
      endpointId: randomBytes(8).toString('base64url'),
      accessTtlS: ttl('access_token_ttl', ACCESS_TTL_S, 600),
      refreshTtlS: ttl('refresh_token_ttl', REFRESH_TTL_S, 3600),
    };
    // At most MAX_SESSIONS live sessions per user and app: the oldest is evicted.
    const live = this.sessions.filter(
      (s) => !s.ended && s.user === user && s.clientId === client.clientId && !this.sessionExpired(s),
    );
    while (live.length >= MAX_SESSIONS) {
      const oldest = live.shift();
      if (oldest) {
        this.endSession(oldest);
        this.opts.log(`session ${oldest.id} of ${user.extensionId} evicted by a new login`);
      }
    }
    this.sessions = this.sessions.filter((s) => !s.ended && !this.sessionExpired(s));
    this.sessions.push(session);
    return session;
  }

  private sessionExpired(s: Session): boolean {
    const now = this.scheduler.now();
    for (const rt of this.refresh.values()) if (rt.session === s && rt.expiresAt > now) return false;
    for (const at of this.access.values()) if (at.session === s && at.expiresAt > now) return false;
    return true;
  }

  private endSession(session: Session): void {
    session.ended = true;
    for (const [k, v] of this.access) if (v.session === session) this.access.delete(k);
    for (const [k, v] of this.refresh) if (v.session === session) this.refresh.delete(k);
  }

  private issue(session: Session, supersedes: RefreshToken[]): TokenResponse {
    const now = this.scheduler.now();
    const accessMs = this.scheduler.real(session.accessTtlS * 1000);
    const refreshMs = this.scheduler.real(session.refreshTtlS * 1000);
    const at: AccessToken = {
      token: token('A'),
      session,
      expiresAt: now + accessMs,
      firstUsedAt: undefined,
      supersedes,
    };
    const rt: RefreshToken = {
      token: token('R'),
      session,
      expiresAt: now + refreshMs,
      deadline: undefined,
      pairedAccess: at.token,
      replacement: undefined,
    };
    this.access.set(at.token, at);
    this.refresh.set(rt.token, rt);
    // drop expired tokens now and then so long runs do not grow without bound
    if (this.access.size > 1000)
      for (const [k, v] of this.access) if (v.expiresAt <= now) this.access.delete(k);
    return {
      access_token: at.token,
      token_type: 'bearer',
      // Lifetimes are reported in simulated seconds, as RingCentral would state them; the token really
      // dies after the scaled time (clients then get 401 and refresh, which the SDK does by itself).
      expires_in: session.accessTtlS,
      refresh_token: rt.token,
      refresh_token_expires_in: session.refreshTtlS,
      scope: scopeFor(session.user, SCOPE),
      owner_id: session.user.extensionId,
      endpoint_id: session.endpointId,
      session_id: session.id,
    };
  }
}
