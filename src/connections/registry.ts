/**
 * Creating and keeping connections: the connect routes' `saveConnection`, `faxflow connections
 * add-jwt`, the environment's credential as the default tenant's connection, and key rotation.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  connectionsSealedWithOtherKeys,
  findConnection,
  findLiveConnectionOfUser,
  insertConnection,
  lockConnection,
  lockConnectionUser,
  reconnectConnection,
  resealConnection,
  setConnectionStatus,
  storeConnectionTokens,
} from '../db/ringcentral-connections';
import type { Database } from '../db/schema';
import { DEFAULT_TENANT_ID, findTenant } from '../db/tenants';
import type { ConnectionRegistry, NewConnection } from '../ringcentral/connections';
import { openSecret, resealSecret, sealSecret } from './connection-secret';
import { fetchIdentity, jwtLogin, type AppCredentials, type Identity } from '../ringcentral/oauth-client';
import { loadTokenCipher, TokenDecryptionError, type KeySettings, type TokenCipher } from './token-cipher';

export interface RegistryDeps {
  db: Kysely<Database>;
  cipher: TokenCipher;
}

/** A new connection id: 16 hex characters, the shape of `credentialKey` (budgets, workflow ids). */
export function newConnectionId(): string {
  return randomBytes(8).toString('hex');
}

export function createConnectionRegistry(deps: RegistryDeps): ConnectionRegistry {
  return { saveConnection: (input) => saveConnection(deps, input) };
}

/**
 * The registry for a process that only stores connections (the API's connect routes): the same
 * keys as the workers (FAXFLOW_ENCRYPTION_KEY, or the data folder's development key).
 */
export async function connectionRegistryFromConfig(
  config: KeySettings,
  db: Kysely<Database>,
  logger?: { warn(obj: object, msg: string): void },
): Promise<ConnectionRegistry> {
  const cipher = await loadTokenCipher(config, (msg, file) => logger?.warn({ file }, msg));
  return createConnectionRegistry({ db, cipher });
}

/**
 * Stores a connection; connecting the same tenant + RingCentral user again updates the live one in
 * place (same id, active again, new tokens, token version + 1).
 */
export async function saveConnection(
  deps: RegistryDeps,
  input: NewConnection,
): Promise<{ id: string; reconnected: boolean }> {
  if (!(await findTenant(deps.db, input.tenantId))) {
    throw new Error(`There is no tenant "${input.tenantId}" (faxflow tenants list shows them).`);
  }
  const secret = { tokens: input.tokens, ...(input.jwt !== undefined && { jwt: input.jwt }) };
  const user = {
    tenantId: input.tenantId,
    serverUrl: input.serverUrl,
    accountId: input.accountId,
    extensionId: input.extensionId,
  };
  return deps.db.transaction().execute(async (trx) => {
    await lockConnectionUser(trx, user);
    const existing = await findLiveConnectionOfUser(trx, user);
    if (existing) {
      await lockConnection(trx, existing.id);
      await reconnectConnection(trx, existing.id, {
        kind: input.kind,
        clientId: input.clientId,
        label: input.label,
        ...sealSecret(deps.cipher, existing.id, secret),
      });
      return { id: existing.id, reconnected: true };
    }
    const id = newConnectionId();
    const sealed = sealSecret(deps.cipher, id, secret);
    await insertConnection(trx, {
      id,
      tenantId: input.tenantId,
      kind: input.kind,
      serverUrl: input.serverUrl,
      clientId: input.clientId,
      accountId: input.accountId,
      extensionId: input.extensionId,
      label: input.label,
      ciphertext: sealed.ciphertext,
      keyId: sealed.keyId,
      accessTokenExpiresAt: sealed.accessTokenExpiresAt,
      connectedAt: new Date(),
    });
    return { id, reconnected: false };
  });
}

/**
 * `faxflow connections add-jwt`: logs in with the JWT once, reads who it is, and stores the token
 * set (and the JWT, to log in again when the refresh token dies), all encrypted.
 */
export async function addJwtConnection(
  deps: RegistryDeps,
  app: AppCredentials,
  tenantId: string,
  jwt: string,
  oauth: { jwtLogin: typeof jwtLogin; fetchIdentity: typeof fetchIdentity } = { jwtLogin, fetchIdentity },
): Promise<{ id: string; reconnected: boolean; identity: Identity }> {
  if (!(await findTenant(deps.db, tenantId))) {
    throw new Error(`There is no tenant "${tenantId}" (faxflow tenants list shows them).`);
  }
  const tokens = await oauth.jwtLogin(app, jwt);
  const identity = await oauth.fetchIdentity(app, tokens.accessToken);
  const saved = await saveConnection(deps, {
    tenantId,
    kind: 'jwt',
    serverUrl: app.serverUrl,
    clientId: app.clientId,
    accountId: identity.accountId,
    extensionId: identity.extensionId,
    label: identity.label,
    tokens,
    jwt,
  });
  return { ...saved, identity };
}

/**
 * The environment's credential (RINGCENTRAL_*) as the default tenant's JWT connection with the id
 * it always had (`credentialKey`). No login here: the first call logs in, once for the fleet. A
 * row whose secret no longer opens (the development key was deleted) is reset from the JWT.
 */
export async function ensureEnvironmentConnection(
  deps: RegistryDeps,
  target: { id: string; serverUrl: string; clientId: string; jwt: string },
  logger?: { warn(obj: object, msg: string): void },
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await lockConnection(trx, target.id);
    const row = await findConnection(trx, target.id);
    if (!row) {
      const sealed = sealSecret(deps.cipher, target.id, { jwt: target.jwt });
      await insertConnection(trx, {
        id: target.id,
        tenantId: DEFAULT_TENANT_ID,
        kind: 'jwt',
        serverUrl: target.serverUrl,
        clientId: target.clientId,
        accountId: null,
        extensionId: null,
        label: 'RINGCENTRAL_JWT (environment)',
        ciphertext: sealed.ciphertext,
        keyId: sealed.keyId,
        accessTokenExpiresAt: null,
        connectedAt: null,
      });
      return;
    }
    if (row.status === 'needs-reconnect') {
      // The operator restarted with the same RINGCENTRAL_JWT: give it another login.
      logger?.warn(
        { connectionId: target.id, reason: row.status_reason },
        'the environment connection needed reconnecting; trying RINGCENTRAL_JWT again',
      );
      await setConnectionStatus(trx, target.id, 'active', null);
    }
    try {
      openSecret(deps.cipher, row);
    } catch (err) {
      if (!(err instanceof TokenDecryptionError)) throw err;
      logger?.warn(
        { connectionId: target.id, keyId: err.keyId },
        "the environment connection's stored tokens do not decrypt with the configured keys; starting over from RINGCENTRAL_JWT",
      );
      await storeConnectionTokens(trx, target.id, sealSecret(deps.cipher, target.id, { jwt: target.jwt }));
    }
  });
}

export interface RotationResult {
  /** Connections re-encrypted under the current key. */
  rotated: string[];
  /** Connections that could not be opened (their key is not configured): id and why. */
  failed: { id: string; reason: string }[];
}

/** Re-encrypts every connection sealed under another key than the current one. */
export async function rotateConnectionKeys(deps: RegistryDeps): Promise<RotationResult> {
  const result: RotationResult = { rotated: [], failed: [] };
  for (const id of await connectionsSealedWithOtherKeys(deps.db, deps.cipher.currentKeyId)) {
    try {
      const done = await deps.db.transaction().execute(async (trx) => {
        await lockConnection(trx, id);
        const row = await findConnection(trx, id);
        if (!row || row.token_key_id === deps.cipher.currentKeyId) return false;
        await resealConnection(trx, id, resealSecret(deps.cipher, row));
        return true;
      });
      if (done) result.rotated.push(id);
    } catch (err) {
      if (!(err instanceof TokenDecryptionError)) throw err;
      result.failed.push({ id, reason: err.message });
    }
  }
  return result;
}
