/**
 * The access tokens of every connection, shared by every process through Postgres.
 *
 * Each call reads the connection's current token from its row. When it is (about to be) expired,
 * or RingCentral answered 401 to the version a caller used, exactly one process renews it: under a
 * transaction-scoped advisory lock on the connection, it re-reads the row and, when the token
 * version has moved on since the caller read it, takes the token someone else just stored instead
 * of refreshing again. That matters because RingCentral's refresh tokens are single-use and a
 * refresh kills the previous access token at once. A JWT connection without a token set logs in
 * the same way: once for the whole fleet, not once per process.
 *
 * A refusal for good (invalid_grant, OAU-2xx, a JWT that no longer logs in) marks the connection
 * `needs-reconnect` with the reason; every caller then gets ConnectionUnavailableError at once,
 * without contacting RingCentral again.
 */
import type { Kysely } from 'kysely';
import type { Database, RingCentralConnectionRow } from '../db/schema';
import {
  findConnection,
  findLiveConnectionOfUser,
  lockConnection,
  setConnectionIdentity,
  setConnectionStatus,
  storeConnectionTokens,
} from '../db/ringcentral-connections';
import { ConnectionUnavailableError, type ConnectionTokens } from '../ringcentral/connections';
import { RingCentralAuthError } from '../ringcentral/errors';
import { openSecret, sealSecret, type ConnectionSecret } from './connection-secret';
import {
  fetchIdentity,
  jwtLogin,
  refreshTokens,
  TokenRefusedError,
  type AppCredentials,
} from '../ringcentral/oauth-client';
import { TokenDecryptionError, type TokenCipher } from './token-cipher';

export interface AccessGrant {
  accessToken: string;
  /** The row's token version this token came with: name it when RingCentral refuses the token. */
  version: number;
}

/** What the token store needs to log; messages and fields never carry a secret. */
export interface TokenStoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The token calls, replaceable in tests. */
export interface OAuthCalls {
  jwtLogin: typeof jwtLogin;
  refreshTokens: typeof refreshTokens;
  fetchIdentity: typeof fetchIdentity;
}

export interface TokenStoreOptions {
  db: Kysely<Database>;
  cipher: TokenCipher;
  /** The app secret for a connection's app when faxflow holds it (JWT and confidential apps). */
  appSecret: (serverUrl: string, clientId: string) => string | undefined;
  logger?: TokenStoreLogger;
  /** Renew this long before the stored expiry (default 60 s, as the SDK does). */
  refreshMarginMs?: number;
  /** Upper bound for one token call (default 30 s). */
  timeoutMs?: number;
  /** Called with every token seen, so that error texts can be redacted. */
  onSecrets?: (secrets: string[]) => void;
  oauth?: Partial<OAuthCalls>;
}

type Renewal =
  | { ok: true; grant: AccessGrant }
  | { ok: false; unavailable: ConnectionUnavailableError }
  | { ok: false; error: Error };

export class ConnectionTokenStore {
  private readonly inflight = new Map<string, Promise<AccessGrant>>();
  private readonly oauth: OAuthCalls;
  private readonly marginMs: number;

  constructor(private readonly opts: TokenStoreOptions) {
    this.oauth = { jwtLogin, refreshTokens, fetchIdentity, ...opts.oauth };
    this.marginMs = opts.refreshMarginMs ?? 60_000;
  }

  /** The connection's current access token, renewed first when it is missing or about to expire. */
  async current(connectionId: string): Promise<AccessGrant> {
    const row = available(connectionId, await findConnection(this.opts.db, connectionId));
    const secret = this.open(row);
    if (secret.tokens && this.fresh(row)) {
      this.opts.onSecrets?.([secret.tokens.accessToken]);
      return { accessToken: secret.tokens.accessToken, version: row.token_version };
    }
    return this.renew(connectionId, row.token_version);
  }

  /**
   * RingCentral refused the access token of `version` (401): a newer one, from whoever renewed
   * it first (this process only when nobody has since).
   */
  async afterUnauthorized(connectionId: string, version: number): Promise<AccessGrant> {
    return this.renew(connectionId, version);
  }

  /** One renewal per connection in this process at a time; across processes the row lock decides. */
  private async renew(connectionId: string, seenVersion: number): Promise<AccessGrant> {
    const running = this.inflight.get(connectionId);
    if (running) {
      const grant = await running;
      if (grant.version > seenVersion) return grant;
    }
    const started = this.renewUnderLock(connectionId, seenVersion).finally(() => {
      if (this.inflight.get(connectionId) === started) this.inflight.delete(connectionId);
    });
    this.inflight.set(connectionId, started);
    return started;
  }

  private async renewUnderLock(connectionId: string, seenVersion: number): Promise<AccessGrant> {
    const outcome = await this.opts.db.transaction().execute(async (trx): Promise<Renewal> => {
      await lockConnection(trx, connectionId);
      let row: RingCentralConnectionRow;
      try {
        row = available(connectionId, await findConnection(trx, connectionId));
      } catch (err) {
        if (err instanceof ConnectionUnavailableError) return { ok: false, unavailable: err };
        throw err;
      }
      const secret = this.open(row);
      if (row.token_version !== seenVersion && secret.tokens && this.fresh(row)) {
        // Someone renewed it while we waited for the lock: theirs is the live one.
        return {
          ok: true,
          grant: { accessToken: secret.tokens.accessToken, version: row.token_version },
        };
      }
      const app: AppCredentials = {
        serverUrl: row.server_url,
        clientId: row.client_id,
        ...optional('clientSecret', this.opts.appSecret(row.server_url, row.client_id)),
      };
      const timeout = { ...optional('timeoutMs', this.opts.timeoutMs) };
      let tokens: ConnectionTokens;
      let how: 'refresh' | 'jwt-login';
      try {
        if (secret.tokens && (secret.tokens.refreshTokenExpiresAt > Date.now() || !secret.jwt)) {
          try {
            how = 'refresh';
            tokens = await this.oauth.refreshTokens(app, secret.tokens, timeout);
          } catch (err) {
            // A dead refresh token is no reason to give up while we hold the JWT.
            if (!(err instanceof TokenRefusedError && secret.jwt)) throw err;
            this.opts.logger?.warn(
              { connectionId, reason: err.reason },
              'RingCentral refused the refresh token; logging in again with the JWT',
            );
            how = 'jwt-login';
            tokens = await this.oauth.jwtLogin(app, secret.jwt, timeout);
          }
        } else if (secret.jwt) {
          how = 'jwt-login';
          tokens = await this.oauth.jwtLogin(app, secret.jwt, timeout);
        } else {
          throw new TokenRefusedError(
            'the connection holds no token set and no JWT to log in with',
            undefined,
          );
        }
      } catch (err) {
        if (err instanceof TokenRefusedError) {
          await setConnectionStatus(trx, connectionId, 'needs-reconnect', err.reason);
          return {
            ok: false,
            unavailable: new ConnectionUnavailableError(connectionId, 'needs-reconnect', err.reason),
          };
        }
        return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
      this.opts.onSecrets?.([tokens.accessToken, tokens.refreshToken]);
      const next: ConnectionSecret = { ...secret, tokens };
      const version = await storeConnectionTokens(
        trx,
        connectionId,
        sealSecret(this.opts.cipher, connectionId, next),
      );
      this.opts.logger?.info({ connectionId, version, how }, 'RingCentral connection token renewed');
      if (how === 'jwt-login' && (row.account_id === null || row.extension_id === null)) {
        await this.learnIdentity(trx, row, app, tokens.accessToken);
      }
      return { ok: true, grant: { accessToken: tokens.accessToken, version } };
    });
    if (outcome.ok) return outcome.grant;
    if ('unavailable' in outcome) {
      if (outcome.unavailable.status === 'needs-reconnect') {
        this.opts.logger?.warn(
          { connectionId, reason: outcome.unavailable.reason },
          'RingCentral connection needs reconnecting',
        );
      }
      throw outcome.unavailable;
    }
    throw outcome.error;
  }

  /**
   * The environment's JWT connection learns its account and extension at its first login. Best
   * effort: a failure leaves them unknown until the next login.
   */
  private async learnIdentity(
    trx: Kysely<Database>,
    row: RingCentralConnectionRow,
    app: AppCredentials,
    accessToken: string,
  ): Promise<void> {
    try {
      const identity = await this.oauth.fetchIdentity(app, accessToken, {
        ...optional('timeoutMs', this.opts.timeoutMs),
      });
      const user = { tenantId: row.tenant_id, serverUrl: row.server_url, ...identity };
      const other = await findLiveConnectionOfUser(trx, user);
      if (other && other.id !== row.id) {
        if (other.kind !== 'jwt') {
          this.opts.logger?.warn(
            { connectionId: row.id, otherConnectionId: other.id },
            'this RingCentral user is connected already in the same tenant; account and extension left unset',
          );
          return;
        }
        // An older JWT of the same user (the environment's credential changed): this one replaces it.
        await setConnectionStatus(
          trx,
          other.id,
          'revoked',
          `replaced by connection ${row.id} for the same user`,
        );
      }
      await setConnectionIdentity(trx, row.id, identity);
    } catch (err) {
      this.opts.logger?.warn(
        { connectionId: row.id, err: (err as Error).message },
        'could not read the RingCentral extension of the connection',
      );
    }
  }

  private open(row: RingCentralConnectionRow): ConnectionSecret {
    try {
      return openSecret(this.opts.cipher, row);
    } catch (err) {
      if (err instanceof TokenDecryptionError) {
        // Not a RingCentral problem and not the tenant's: an operator must supply the key.
        throw new RingCentralAuthError(`RingCentral connection ${row.id} is unusable: ${err.message}`);
      }
      throw err;
    }
  }

  private fresh(row: RingCentralConnectionRow): boolean {
    const expiresAt = row.access_token_expires_at?.getTime();
    return expiresAt !== undefined && expiresAt - this.marginMs > Date.now();
  }
}

function available(id: string, row: RingCentralConnectionRow | undefined): RingCentralConnectionRow {
  if (!row) throw new ConnectionUnavailableError(id, 'missing', 'no such RingCentral connection');
  if (row.status !== 'active') {
    throw new ConnectionUnavailableError(
      id,
      row.status,
      row.status_reason ??
        (row.status === 'revoked' ? 'the connection was revoked' : 'the tenant must reconnect'),
    );
  }
  return row;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
