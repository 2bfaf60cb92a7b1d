/**
 * Contract between the parts of multi-tenant RingCentral connections (issue 11): the connection
 * store (src/connections, db/ringcentral-connections.ts), the activities that pick a client per
 * job, and the PKCE connect routes. A connection is one RingCentral user (extension) a tenant
 * connected; its id names its rate budgets, subscription and reconciler (the role `credentialKey`
 * had when there was one credential per task queue). The environment's JWT credential becomes the
 * default tenant's connection, whose id is `credentialKey(target)`, so budgets, subscriptions and
 * reconcile workflows from before keep their names.
 */
import type { RingCentralClient } from './types';

export type ConnectionKind = 'jwt' | 'pkce';
export type ConnectionStatus = 'active' | 'needs-reconnect' | 'revoked';

/** A token set as RingCentral returns it. Only ever stored encrypted; never logged or put in a payload. */
export interface ConnectionTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms. */
  accessTokenExpiresAt: number;
  refreshTokenExpiresAt: number;
  scope?: string;
  /** The lifetimes RingCentral issued the pair with (`expires_in`, `refresh_token_expires_in`); asked for again on refresh. */
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
}

export interface NewConnection {
  tenantId: string;
  kind: ConnectionKind;
  serverUrl: string;
  clientId: string;
  /** Learned at connect time from `GET /restapi/v1.0/account/~/extension/~`. */
  accountId: string;
  extensionId: string;
  /** Who it is, for people: the extension's name. */
  label: string;
  tokens: ConnectionTokens;
  /** JWT connections only: the assertion, to log in again when the refresh token dies. Stored encrypted. */
  jwt?: string;
}

/** What the connect routes need from the store. */
export interface ConnectionRegistry {
  /**
   * Stores a connection. Connecting the same tenant + account + extension again (a reconnect)
   * updates that connection in place: same id, status `active`, new tokens, token version + 1.
   */
  saveConnection(input: NewConnection): Promise<{ id: string; reconnected: boolean }>;
}

/** Thrown by `forConnection` when the tenant must reconnect before anything can be sent. */
export class ConnectionUnavailableError extends Error {
  override readonly name = 'ConnectionUnavailableError';
  constructor(
    readonly connectionId: string,
    readonly status: Exclude<ConnectionStatus, 'active'> | 'missing',
    /** Why, in one sentence, without secrets (e.g. "RingCentral refused the refresh token: OAU-211"). */
    readonly reason: string,
  ) {
    super(`RingCentral connection ${connectionId} is ${status}: ${reason}`);
  }
}

/** Every RingCentral client the worker needs, one per connection, built on demand and kept (bounded). */
export interface RingCentralConnectionPool {
  /** The client for a connection; throws ConnectionUnavailableError when it needs reconnecting. */
  forConnection(connectionId: string): Promise<RingCentralClient>;
  close(): Promise<void>;
}
