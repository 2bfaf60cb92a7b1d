/**
 * The token calls of a connection (JWT login, refresh) and the identity lookup, through
 * `@ringcentral/sdk`. Each call uses a throwaway Platform whose auth data is set from the stored
 * token set: the SDK never refreshes on its own here, the token store decides when (one process
 * at a time, see token-store.ts).
 */
import { randomUUID } from 'node:crypto';
import { SDK } from '@ringcentral/sdk';
import type { ConnectionTokens } from './connections';
import { RingCentralAuthError } from './errors';
import { createRedactor } from './redact';

/** The RingCentral app a connection was made with. The secret is absent for public (PKCE-only) apps. */
export interface AppCredentials {
  serverUrl: string;
  clientId: string;
  clientSecret?: string;
}

/** RingCentral refused the grant for good (invalid_grant, OAU-2xx): only a reconnect helps. */
export class TokenRefusedError extends Error {
  override name = 'TokenRefusedError';
  constructor(
    /** One sentence without secrets, e.g. "RingCentral refused the refresh token: OAU-211 Token is revoked". */
    readonly reason: string,
    readonly errorCode: string | undefined,
  ) {
    super(reason);
  }
}

export interface Identity {
  accountId: string;
  extensionId: string;
  /** The extension's name (and number), for people. */
  label: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** RingCentral's defaults (and maxima) for an access and a refresh token. */
const DEFAULT_ACCESS_TTL_S = 3600;
const DEFAULT_REFRESH_TTL_S = 604_800;

function platformFor(app: AppCredentials) {
  return new SDK({
    server: app.serverUrl,
    clientId: app.clientId,
    ...(app.clientSecret !== undefined && { clientSecret: app.clientSecret }),
    cachePrefix: `faxflow-conn-${randomUUID()}-`,
    refreshDelayMs: 0,
    clearCacheOnRefreshError: false,
  }).platform();
}

interface TokenJson {
  access_token: string;
  expires_in: number | string;
  refresh_token: string;
  refresh_token_expires_in: number | string;
  scope?: string;
}

function toTokens(json: TokenJson, now = Date.now()): ConnectionTokens {
  return {
    accessToken: json.access_token,
    refreshToken: json.refresh_token,
    accessTokenExpiresAt: now + Number(json.expires_in) * 1000,
    refreshTokenExpiresAt: now + Number(json.refresh_token_expires_in) * 1000,
    ...(json.scope !== undefined && { scope: json.scope }),
    accessTokenTtlSeconds: Number(json.expires_in),
    refreshTokenTtlSeconds: Number(json.refresh_token_expires_in),
  };
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RingCentralAuthError(`${what}: RingCentral did not answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a failed token call means: refused for good (TokenRefusedError) or a fault worth retrying
 * later (RingCentralAuthError). Messages are redacted.
 */
async function classify(err: unknown, what: string, redact: (s: string) => string): Promise<Error> {
  if (err instanceof RingCentralAuthError) return err;
  const e = err as { response?: Response | null; message?: string };
  const response = e.response;
  if (!response || typeof response.status !== 'number') {
    const message = redact(e.message ?? String(err));
    // The SDK's own checks before any request: nothing left to refresh with.
    if (/refresh token (is missing|has expired)/i.test(message)) {
      return new TokenRefusedError(`${what}: ${message}`, undefined);
    }
    return new RingCentralAuthError(`${what}: ${message}`);
  }
  let error: string | undefined;
  let errorCode: string | undefined;
  let description = response.statusText || 'request failed';
  try {
    const body = (await response.clone().json()) as {
      error?: string;
      error_description?: string;
      errorCode?: string;
      message?: string;
      errors?: { errorCode?: string; message?: string }[];
    };
    error = body.error;
    errorCode = body.errors?.[0]?.errorCode ?? body.errorCode;
    description = body.error_description ?? body.message ?? body.errors?.[0]?.message ?? description;
  } catch {
    // not JSON: the status line says it
  }
  const code = redact(errorCode ?? error ?? `HTTP-${response.status}`);
  const reason = `${what}: ${code} ${redact(description)}`;
  if (error === 'invalid_grant' || /^OAU-2\d\d$/.test(errorCode ?? '')) {
    return new TokenRefusedError(reason, errorCode ?? error);
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return new RingCentralAuthError(
    `${what}: ${response.status} ${code} ${redact(description)}`,
    response.status,
    code,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : response.status === 429 ? 30 : undefined,
  );
}

/** Logs in with a JWT assertion: one new session for the user. */
export async function jwtLogin(
  app: AppCredentials,
  jwt: string,
  opts: { timeoutMs?: number } = {},
): Promise<ConnectionTokens> {
  const platform = platformFor(app);
  const redact = createRedactor([jwt, app.clientSecret ?? '']);
  try {
    const response = await withTimeout(
      platform.login({ jwt }),
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      'RingCentral JWT login failed',
    );
    return toTokens((await response.json()) as TokenJson);
  } catch (err) {
    throw await classify(err, 'RingCentral refused the JWT login', redact);
  }
}

/** Exchanges a refresh token for a new pair (the old access token stops working at once). */
export async function refreshTokens(
  app: AppCredentials,
  tokens: ConnectionTokens,
  opts: { timeoutMs?: number } = {},
): Promise<ConnectionTokens> {
  const platform = platformFor(app);
  const redact = createRedactor([tokens.refreshToken, tokens.accessToken, app.clientSecret ?? '']);
  await platform.auth().setData({
    token_type: 'bearer',
    access_token: '',
    // The lifetimes asked for again on refresh (the SDK sends them): what the pair was issued with.
    expires_in: String(tokens.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TTL_S),
    expire_time: 1,
    refresh_token: tokens.refreshToken,
    refresh_token_expires_in: String(tokens.refreshTokenTtlSeconds ?? DEFAULT_REFRESH_TTL_S),
    refresh_token_expire_time: tokens.refreshTokenExpiresAt,
  } as never);
  try {
    const response = await withTimeout(
      platform.refresh(),
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      'RingCentral token refresh failed',
    );
    return toTokens((await response.json()) as TokenJson);
  } catch (err) {
    throw await classify(err, 'RingCentral refused the refresh token', redact);
  }
}

/** Who the token belongs to: GET /restapi/v1.0/account/~/extension/~. */
export async function fetchIdentity(
  app: AppCredentials,
  accessToken: string,
  opts: { timeoutMs?: number } = {},
): Promise<Identity> {
  const platform = platformFor(app);
  const redact = createRedactor([accessToken, app.clientSecret ?? '']);
  try {
    const response = await withTimeout(
      platform.get('/restapi/v1.0/account/~/extension/~', undefined, {
        skipAuthCheck: true,
        headers: { Authorization: `Bearer ${accessToken}` },
      } as never),
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      'Reading the RingCentral extension failed',
    );
    const body = (await response.json()) as {
      id: number | string;
      extensionNumber?: string;
      name?: string;
      account?: { id: number | string };
    };
    if (body.account?.id === undefined || body.id === undefined) {
      throw new RingCentralAuthError(
        'RingCentral answered the extension lookup without account or extension id',
      );
    }
    const name = body.name ?? `extension ${String(body.id)}`;
    return {
      accountId: String(body.account.id),
      extensionId: String(body.id),
      label: body.extensionNumber ? `${name} (ext. ${body.extensionNumber})` : name,
    };
  } catch (err) {
    throw await classify(err, 'Reading the RingCentral extension failed', redact);
  }
}

/**
 * Exchanges an authorization code (Authorization Code + PKCE) for a token set: one new session for
 * the user who approved. Without a client secret the app is public and sends `client_id` instead.
 */
export async function exchangeAuthorizationCode(
  app: AppCredentials,
  grant: { code: string; redirectUri: string; codeVerifier: string },
  opts: { timeoutMs?: number } = {},
): Promise<ConnectionTokens> {
  const platform = platformFor(app);
  const redact = createRedactor([grant.code, grant.codeVerifier, app.clientSecret ?? '']);
  try {
    const response = await withTimeout(
      platform.login({
        code: grant.code,
        redirect_uri: grant.redirectUri,
        code_verifier: grant.codeVerifier,
      }),
      opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      'RingCentral authorization code exchange failed',
    );
    return toTokens((await response.json()) as TokenJson);
  } catch (err) {
    throw await classify(err, 'RingCentral refused the authorization code', redact);
  }
}
