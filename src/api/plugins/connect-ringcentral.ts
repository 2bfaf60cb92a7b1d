/**
 * The Auth Code + PKCE connect flow (issue 11): a tenant opens a one-time connect link, RingCentral
 * asks its user to approve, and the callback stores the connection.
 *
 * `GET /connect/ringcentral?tenant=T&token=X` checks the link (db/connect-links.ts), creates a signed,
 * single-use `state` and a PKCE verifier (S256), and redirects to RingCentral's authorize page.
 * `GET /connect/ringcentral/callback?code&state` checks the state, exchanges the code with the
 * verifier, reads the extension it connected, saves the connection through the injected
 * `ConnectionRegistry`, calls `onConnected`, and answers a plain HTML page saying who is connected,
 * or exactly what went wrong. Link tokens, codes, states, verifiers and RingCentral tokens never reach
 * a log line or a page: these routes log below `info` for requests, and log only tenant and ids.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../../config/config';
import {
  consumeConnectLink,
  consumeConnectState,
  CONNECT_LINK_TTL_MS,
  createConnectState,
  pruneConnectLinks,
} from '../../db/connect-links';
import type { Database } from '../../db/schema';
import { findTenant } from '../../db/tenants';
import type { ConnectionRegistry, NewConnection } from '../../ringcentral/connections';

export interface ConnectRingCentralDeps {
  /** Stores the connection (the lead wires the real store; tests pass a fake). */
  registry: ConnectionRegistry;
  /** The RingCentral app: RINGCENTRAL_SERVER_URL, RINGCENTRAL_CLIENT_ID, RINGCENTRAL_CLIENT_SECRET. */
  ringcentral: { serverUrl: string; clientId: string; clientSecret?: string };
  /** FAXFLOW_PUBLIC_URL: where browsers reach faxflow; the redirect URI is `<publicUrl>/connect/ringcentral/callback`. */
  publicUrl: string;
  /** At least 32 bytes: signs `state` and encrypts the code verifier (see `loadConnectSecret`). */
  secret: Buffer;
  /** Called after a connection is saved (e.g. to wake jobs waiting for it); a failure is logged only. */
  onConnected?: (connectionId: string, reconnected: boolean) => Promise<void> | void;
  /** For tests. */
  fetch?: typeof fetch;
  now?: () => Date;
}

export interface ConnectRingCentralOptions extends ConnectRingCentralDeps {
  db: Kysely<Database>;
}

const SECRET_FILE = 'connect-secret';
/** Links and states are deleted this long after they expired (until then they answer "expired"). */
const KEEP_EXPIRED_MS = 7 * 24 * 3_600_000;

/**
 * The connect routes' settings from the configuration: the RingCentral app (RINGCENTRAL_CLIENT_ID,
 * RINGCENTRAL_CLIENT_SECRET, RINGCENTRAL_SERVER_URL; `app` when those are not configured, e.g. the
 * simulator's), FAXFLOW_PUBLIC_URL (else `localUrl`, the API's own address) and the secret from the
 * data folder. Undefined when there is no RingCentral app at all.
 */
export function connectDepsFromConfig(
  config: Config,
  wiring: {
    registry: ConnectionRegistry;
    onConnected?: ConnectRingCentralDeps['onConnected'];
    localUrl: string;
    app?: ConnectRingCentralDeps['ringcentral'];
  },
): ConnectRingCentralDeps | undefined {
  const ringcentral = config.ringcentral ?? wiring.app;
  if (!ringcentral) return undefined;
  return {
    registry: wiring.registry,
    ringcentral: {
      serverUrl: ringcentral.serverUrl,
      clientId: ringcentral.clientId,
      ...(ringcentral.clientSecret !== undefined && { clientSecret: ringcentral.clientSecret }),
    },
    publicUrl: config.publicUrl ?? wiring.localUrl,
    secret: loadConnectSecret(config.dataDir),
    ...(wiring.onConnected && { onConnected: wiring.onConnected }),
  };
}
const RINGCENTRAL_TIMEOUT_MS = 15_000;

/**
 * The connect secret from the data folder (`<dataDir>/connect-secret`, 32 random bytes as hex,
 * created with mode 0600 on first use), so every API process sharing the folder accepts the others'
 * states. Processes on several machines must share the file (or pass the same bytes).
 */
export function loadConnectSecret(dataDir: string): Buffer {
  const file = path.join(dataDir, SECRET_FILE);
  try {
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64,}$/i.test(hex))
      throw new Error(`${file} must hold at least 64 hex digits (32 bytes); delete it to make a new one`);
    return Buffer.from(hex, 'hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  try {
    writeFileSync(file, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (e) {
    // another process made it first: use theirs
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadConnectSecret(dataDir);
    throw e;
  }
}

const b64 = (b: Buffer): string => b.toString('base64url');

function keys(secret: Buffer): { state: Buffer; verifier: Buffer } {
  if (secret.length < 32) throw new Error('The connect secret must be at least 32 bytes.');
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, '', info, 32));
  return { state: derive('faxflow connect state v1'), verifier: derive('faxflow connect verifier v1') };
}

/** `<id>.<hmac>`: the id names the stored state; the HMAC proves this faxflow issued it. */
function signState(key: Buffer, id: string): string {
  return `${id}.${b64(createHmac('sha256', key).update(id).digest())}`;
}

function verifyState(key: Buffer, state: string): string | undefined {
  const m = /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})$/.exec(state);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  // Compare the text, not the decoded bytes: base64 has several spellings of the same bytes (the
  // last character's spare bits), and only the one we issued is accepted.
  const expected = Buffer.from(b64(createHmac('sha256', key).update(m[1]).digest()));
  const given = Buffer.from(m[2]);
  return given.length === expected.length && timingSafeEqual(given, expected) ? m[1] : undefined;
}

/** AES-256-GCM, bound to the tenant: `v1.<iv>.<tag>.<ciphertext>`. */
function encryptVerifier(key: Buffer, verifier: string, tenantId: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(tenantId));
  const ct = Buffer.concat([cipher.update(verifier, 'utf8'), cipher.final()]);
  return `v1.${b64(iv)}.${b64(cipher.getAuthTag())}.${b64(ct)}`;
}

function decryptVerifier(key: Buffer, sealed: string, tenantId: string): string | undefined {
  const [v, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || iv === undefined || tag === undefined || ct === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(tenantId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** A plain page: a title and sentences. Every argument is text, escaped here. */
function page(reply: FastifyReply, status: number, title: string, ...sentences: string[]): FastifyReply {
  const body = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="referrer" content="no-referrer">
    <title>faxflow: ${escapeHtml(title)}</title>
  </head>
  <body>
    <h1 id="title">${escapeHtml(title)}</h1>
${sentences.map((s) => `    <p>${escapeHtml(s)}</p>`).join('\n')}
  </body>
</html>
`;
  return reply
    .code(status)
    .headers({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'",
    })
    .send(body);
}

const single = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const NEW_LINK = 'Ask for a new connect link and open it.';

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  scope?: string;
}

interface ExtensionAnswer {
  id: number | string;
  extensionNumber?: string;
  name?: string;
  account?: { id: number | string };
}

class RingCentralRefusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export const connectRingCentral: FastifyPluginAsync<ConnectRingCentralOptions> = async (app, opts) => {
  const { state: stateKey, verifier: verifierKey } = keys(opts.secret);
  const now = opts.now ?? (() => new Date());
  const doFetch = opts.fetch ?? fetch;
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  const serverUrl = opts.ringcentral.serverUrl.replace(/\/+$/, '');
  const redirectUri = `${publicUrl}/connect/ringcentral/callback`;
  const log = app.log;
  // Request logs carry the URL, which holds the link token, the code and the state: not for these routes.
  const routeOpts = { logLevel: 'warn' as const };

  app.get('/connect/ringcentral', routeOpts, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const tenantId = single(q['tenant']);
    const token = single(q['token']);
    if (tenantId === undefined || token === undefined)
      return page(
        reply,
        400,
        'Incomplete connect link',
        'A connect link needs both a tenant and a token parameter; this one lacks ' +
          [tenantId === undefined && 'the tenant', token === undefined && 'the token']
            .filter(Boolean)
            .join(' and ') +
          '.',
        'Copy the whole link, or ' + NEW_LINK.toLowerCase(),
      );
    const tenant = await findTenant(opts.db, tenantId);
    if (!tenant)
      return page(
        reply,
        404,
        'Unknown tenant',
        `faxflow has no tenant "${tenantId}".`,
        'Check the link. ' + NEW_LINK,
      );
    if (tenant.disabled_at !== null)
      return page(
        reply,
        403,
        'Tenant disabled',
        `The tenant "${tenant.name}" is disabled and cannot connect RingCentral.`,
      );
    const stateId = b64(randomBytes(24));
    const verifier = b64(randomBytes(32));
    // The link is spent only together with the state it starts: a failure leaves it usable.
    const link = await opts.db.transaction().execute(async (trx) => {
      const taken = await consumeConnectLink(trx, tenantId, token, now());
      if (taken.ok)
        await createConnectState(trx, {
          stateId,
          tenantId,
          linkId: taken.linkId,
          codeVerifierEnc: encryptVerifier(verifierKey, verifier, tenantId),
          redirectUri,
          now: now(),
        });
      return taken;
    });
    if (!link.ok) {
      log.info({ tenant: tenantId, refused: link.why }, 'connect link refused');
      if (link.why === 'used')
        return page(
          reply,
          410,
          'Link already used',
          `This connect link for ${tenant.name} was already used: a link works once.`,
          NEW_LINK,
        );
      if (link.why === 'expired')
        return page(
          reply,
          410,
          'Link expired',
          `This connect link for ${tenant.name} expired at ${link.expiredAt?.toISOString() ?? 'an earlier time'} (links work for ${CONNECT_LINK_TTL_MS / 60_000} minutes).`,
          NEW_LINK,
        );
      return page(
        reply,
        404,
        'Unknown connect link',
        `This connect link is not valid for ${tenant.name}: its token is unknown.`,
        NEW_LINK,
      );
    }
    const authorize = new URL(`${serverUrl}/restapi/oauth/authorize`);
    authorize.searchParams.set('response_type', 'code');
    authorize.searchParams.set('client_id', opts.ringcentral.clientId);
    authorize.searchParams.set('redirect_uri', redirectUri);
    authorize.searchParams.set('code_challenge', b64(createHash('sha256').update(verifier).digest()));
    authorize.searchParams.set('code_challenge_method', 'S256');
    authorize.searchParams.set('state', signState(stateKey, stateId));
    log.info({ tenant: tenantId }, 'connect link used: redirecting to RingCentral');
    return reply
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .redirect(authorize.toString(), 302);
  });

  app.get('/connect/ringcentral/callback', routeOpts, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const state = single(q['state']);
    const error = single(q['error']);
    const code = single(q['code']);
    if (state === undefined)
      return page(
        reply,
        400,
        'State missing',
        'RingCentral sent the browser back without the state parameter, so this answer cannot be matched to a connect request.',
        NEW_LINK,
      );
    const stateId = verifyState(stateKey, state);
    if (stateId === undefined)
      return page(
        reply,
        400,
        'State mismatch',
        'The state parameter was altered or was not issued by this faxflow, so nothing was connected.',
        NEW_LINK,
      );
    const found = await consumeConnectState(opts.db, stateId, now());
    if (!found.ok) {
      log.info({ refused: found.why, tenant: found.tenantId }, 'connect state refused');
      if (found.why === 'used')
        return page(
          reply,
          409,
          'Already completed',
          'This authorization answer was already used (each one works once), so nothing more was connected.',
          NEW_LINK,
        );
      if (found.why === 'expired')
        return page(
          reply,
          410,
          'Authorization expired',
          'The approval took too long: the connect request expired before RingCentral answered.',
          NEW_LINK,
        );
      return page(
        reply,
        400,
        'State mismatch',
        'This faxflow has no connect request with that state, so nothing was connected.',
        NEW_LINK,
      );
    }
    const tenantId = found.state.tenant_id;
    const tenant = await findTenant(opts.db, tenantId);
    if (!tenant) return page(reply, 404, 'Unknown tenant', `faxflow no longer has the tenant "${tenantId}".`);
    if (error !== undefined) {
      log.info({ tenant: tenantId, error }, 'RingCentral authorization not granted');
      if (error === 'access_denied')
        return page(
          reply,
          403,
          'Access denied',
          `Access was denied on RingCentral's page, so no RingCentral user was connected to ${tenant.name}.`,
          'To connect after all, ' + NEW_LINK.toLowerCase(),
        );
      const description = single(q['error_description']);
      return page(
        reply,
        400,
        'Authorization failed',
        `RingCentral did not authorize the connection: ${error}${description ? ` (${description})` : ''}.`,
        NEW_LINK,
      );
    }
    if (code === undefined)
      return page(
        reply,
        400,
        'Code missing',
        'RingCentral sent the browser back without an authorization code.',
        NEW_LINK,
      );
    const verifier = decryptVerifier(verifierKey, found.state.code_verifier_enc, tenantId);
    if (verifier === undefined)
      return page(
        reply,
        400,
        'State mismatch',
        "The stored connect request cannot be read with this faxflow's secret (was the secret replaced?).",
        NEW_LINK,
      );

    let connection: NewConnection;
    try {
      const tokens = await exchangeCode(code, verifier, found.state.redirect_uri);
      const ext = await readExtension(tokens.access_token);
      const at = now().getTime();
      connection = {
        tenantId,
        kind: 'pkce',
        serverUrl,
        clientId: opts.ringcentral.clientId,
        accountId: String(ext.account?.id ?? ''),
        extensionId: String(ext.id),
        label: ext.name ?? `extension ${ext.extensionNumber ?? ext.id}`,
        tokens: {
          accessToken: tokens.access_token,
          refreshToken: tokens.refresh_token,
          accessTokenExpiresAt: at + tokens.expires_in * 1000,
          refreshTokenExpiresAt: at + tokens.refresh_token_expires_in * 1000,
          ...(tokens.scope !== undefined && { scope: tokens.scope }),
        },
      };
      const saved = await opts.registry.saveConnection(connection);
      log.info(
        {
          tenant: tenantId,
          connection: saved.id,
          accountId: connection.accountId,
          extensionId: connection.extensionId,
          reconnected: saved.reconnected,
        },
        'RingCentral connection saved',
      );
      pruneConnectLinks(opts.db, new Date(now().getTime() - KEEP_EXPIRED_MS)).catch((e: unknown) =>
        log.warn({ err: e instanceof Error ? e.message : String(e) }, 'pruning old connect links failed'),
      );
      if (opts.onConnected) {
        try {
          await opts.onConnected(saved.id, saved.reconnected);
        } catch (e) {
          log.warn(
            { connection: saved.id, err: e instanceof Error ? e.message : String(e) },
            'onConnected failed',
          );
        }
      }
      const who = `${connection.label} (extension ${ext.extensionNumber ?? connection.extensionId})`;
      return page(
        reply,
        200,
        saved.reconnected ? 'Reconnected' : 'Connected',
        `Connected ${who} to ${tenant.name}.`,
        saved.reconnected
          ? 'This RingCentral user was connected before: faxflow uses the new authorization from now on.'
          : 'faxflow can now send faxes as this RingCentral user. You can close this page.',
      );
    } catch (e) {
      if (e instanceof RingCentralRefusal) {
        log.warn({ tenant: tenantId, status: e.status, why: e.message }, 'RingCentral connect failed');
        return page(reply, e.status, e.title, e.message, NEW_LINK);
      }
      log.error(
        { tenant: tenantId, err: e instanceof Error ? e.message : String(e) },
        'storing the RingCentral connection failed',
      );
      return page(
        reply,
        500,
        'Not connected',
        'faxflow could not store the connection; nothing was connected. Try again later.',
      );
    }
  });

  async function callRingCentral(
    what: string,
    url: string,
    init: RequestInit,
  ): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await doFetch(url, { ...init, signal: AbortSignal.timeout(RINGCENTRAL_TIMEOUT_MS) });
    } catch (e) {
      const reason =
        e instanceof Error && e.name === 'TimeoutError' ? 'did not answer in time' : 'could not be reached';
      throw new RingCentralRefusal(
        502,
        'RingCentral unreachable',
        `RingCentral (${what}) ${reason}, so nothing was connected.`,
      );
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  }

  async function exchangeCode(code: string, verifier: string, redirect: string): Promise<TokenAnswer> {
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirect,
      code_verifier: verifier,
    });
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    const { clientId, clientSecret } = opts.ringcentral;
    // A confidential app authenticates with Basic; a public (PKCE-only) app names itself in the body.
    if (clientSecret !== undefined && clientSecret !== '')
      headers['authorization'] = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    else form.set('client_id', clientId);
    const { status, body } = await callRingCentral('token endpoint', `${serverUrl}/restapi/oauth/token`, {
      method: 'POST',
      headers,
      body: form.toString(),
    });
    const b = (body ?? {}) as Partial<TokenAnswer> & {
      error?: unknown;
      error_description?: unknown;
      errors?: Array<{ errorCode?: unknown }>;
    };
    if (status === 200 && typeof b.access_token === 'string' && typeof b.refresh_token === 'string')
      return {
        access_token: b.access_token,
        refresh_token: b.refresh_token,
        expires_in: Number(b.expires_in ?? 3600),
        refresh_token_expires_in: Number(b.refresh_token_expires_in ?? 604_800),
        ...(typeof b.scope === 'string' && { scope: b.scope }),
      };
    const err = typeof b.error === 'string' ? b.error : `HTTP ${status}`;
    const desc = typeof b.error_description === 'string' ? b.error_description : '';
    const rcCode = typeof b.errors?.[0]?.errorCode === 'string' ? ` ${b.errors[0].errorCode}` : '';
    if (err === 'invalid_grant')
      throw new RingCentralRefusal(
        400,
        'Code refused',
        `RingCentral refused the authorization code (invalid_grant${rcCode}${desc ? `: ${desc}` : ''}). A code works once and for about a minute, so it was reused, expired or is invalid; nothing was connected.`,
      );
    if (err === 'invalid_client' || err === 'unauthorized_client')
      throw new RingCentralRefusal(
        502,
        'App not accepted',
        `RingCentral did not accept faxflow's app credentials (${err}${rcCode}): the operator must check RINGCENTRAL_CLIENT_ID and RINGCENTRAL_CLIENT_SECRET.`,
      );
    throw new RingCentralRefusal(
      502,
      'RingCentral error',
      `RingCentral's token endpoint answered ${err}${rcCode}${desc ? ` (${desc})` : ''}; nothing was connected.`,
    );
  }

  async function readExtension(accessToken: string): Promise<ExtensionAnswer> {
    const { status, body } = await callRingCentral(
      'extension info',
      `${serverUrl}/restapi/v1.0/account/~/extension/~`,
      {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      },
    );
    const b = body as (Partial<ExtensionAnswer> & { errorCode?: unknown }) | undefined;
    if (status !== 200 || b === undefined || (typeof b.id !== 'number' && typeof b.id !== 'string'))
      throw new RingCentralRefusal(
        502,
        'RingCentral error',
        `RingCentral answered ${status}${typeof b?.errorCode === 'string' ? ` ${b.errorCode}` : ''} when asked which user was connected; nothing was connected.`,
      );
    return b as ExtensionAnswer;
  }
};
