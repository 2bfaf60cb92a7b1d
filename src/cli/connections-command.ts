import { readFile } from 'node:fs/promises';
import type { Config } from '../config/config';
import { addJwtConnection, rotateConnectionKeys } from '../connections/registry';
import { loadTokenCipher } from '../connections/token-cipher';
import { rotateWebhookSecretKeys } from '../connections/webhook-secret-keys';
import { TokenRefusedError } from '../ringcentral/oauth-client';
import { listConnections } from '../db/ringcentral-connections';
import { findTenant } from '../db/tenants';
import { parseCommand, table, withCliDatabase } from './cli-database';
import { UsageError } from './errors';

type Out = (line: string) => void;

export const CONNECTIONS_HELP = `faxflow connections: the RingCentral users tenants connected

Usage:
  faxflow connections add-jwt --tenant ID [--jwt-file FILE]
                                 connect a RingCentral user with a JWT credential (read from stdin, or FILE;
                                 never from the command line); logs in once and stores the tokens encrypted
  faxflow connections list [--tenant ID]
                                 every connection: tenant, kind, status, RingCentral account and extension
                                 (never a token)
  faxflow connections rotate-key re-encrypt every connection and webhook endpoint secret under the first key
                                 of FAXFLOW_ENCRYPTION_KEY
  faxflow connections link --tenant ID
                                 print a one-time link (15 min) through which a customer connects their
                                 RingCentral user with Auth Code + PKCE (FAXFLOW_PUBLIC_URL must reach faxflow api)

The RingCentral app is the environment's (RINGCENTRAL_SERVER_URL, RINGCENTRAL_CLIENT_ID, RINGCENTRAL_CLIENT_SECRET).`;

const ADD_JWT_HELP = `Usage: faxflow connections add-jwt --tenant ID [--jwt-file FILE]
Connects the RingCentral user a JWT credential belongs to, for tenant ID. The JWT is read from FILE, or
from stdin when there is no --jwt-file (e.g. faxflow connections add-jwt --tenant acme < acme.jwt); it is
never taken from the command line, where ps and shell history would keep it. faxflow logs in once, reads
the account and extension (GET /restapi/v1.0/account/~/extension/~) and stores the token set and the JWT
encrypted (FAXFLOW_ENCRYPTION_KEY). Adding the same user to the same tenant again updates that connection.`;

const LIST_HELP = `Usage: faxflow connections list [--tenant ID]
Lists connections: id, tenant, kind (jwt|pkce), status (active|needs-reconnect|revoked) and why,
RingCentral account/extension, label, the key id that encrypts it and its token version. Never a secret.`;

const ROTATE_HELP = `Usage: faxflow connections rotate-key
Re-encrypts every connection and every webhook endpoint signing secret sealed under an older key with
the current one (the first key of FAXFLOW_ENCRYPTION_KEY, e.g. "new:KEY,old:KEY"); endpoint secrets
still stored in clear by an older faxflow are encrypted too. Afterwards the old key can be removed.`;

export interface ConnectionsIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export async function runConnections(args: string[], out: Out, io: ConnectionsIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add-jwt':
      return addJwt(rest, out, io);
    case 'list':
      return list(rest, out);
    case 'rotate-key':
      return rotateKey(rest, out);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(CONNECTIONS_HELP);
      return 0;
    default:
      throw new UsageError(
        `Unknown connections command "${sub}"; the commands are add-jwt, list, rotate-key and link (faxflow connections link --tenant T; faxflow connections --help).`,
      );
  }
}

/** Keys of the cipher as the config says, announcing a generated development key on `out`. */
const cipherFor = (config: Config, out: Out) =>
  loadTokenCipher(config, (message, file) => out(`${message}: ${file}`));

async function readJwt(file: string | undefined, io: ConnectionsIo): Promise<string> {
  let text: string;
  if (file !== undefined && file !== '-') {
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new UsageError(
        `Cannot read --jwt-file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}.`,
      );
    }
  } else {
    if (io.stdin.isTTY) {
      throw new UsageError(
        'faxflow connections add-jwt reads the JWT from stdin: pipe it in (< file.jwt) or give --jwt-file FILE.',
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    text = Buffer.concat(chunks).toString('utf8');
  }
  const jwt = text.trim();
  if (jwt === '')
    throw new UsageError(`No JWT ${file !== undefined && file !== '-' ? `in ${file}` : 'on stdin'}.`);
  if (/\s/.test(jwt)) throw new UsageError('The JWT must be one token without spaces or line breaks.');
  return jwt;
}

async function addJwt(args: string[], out: Out, io: ConnectionsIo): Promise<number> {
  if (args.some((a) => a === '--jwt' || a.startsWith('--jwt='))) {
    throw new UsageError(
      'faxflow never takes a JWT from the command line (ps and shell history would keep it): pipe it on stdin or use --jwt-file FILE.',
    );
  }
  const { values, positionals } = parseCommand(
    args,
    { tenant: { type: 'string' }, 'jwt-file': { type: 'string' } },
    ADD_JWT_HELP,
  );
  if (values.help) {
    out(ADD_JWT_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `faxflow connections add-jwt takes no positional arguments (the JWT comes from stdin or --jwt-file).\n${ADD_JWT_HELP}`,
    );
  }
  const tenantId = values.tenant;
  if (typeof tenantId !== 'string' || tenantId === '') {
    throw new UsageError(`faxflow connections add-jwt needs --tenant ID.\n${ADD_JWT_HELP}`);
  }
  return withCliDatabase(async ({ db }, config) => {
    if (!config.ringcentral) {
      throw new UsageError(
        'faxflow connections add-jwt needs the RingCentral app: set RINGCENTRAL_SERVER_URL, RINGCENTRAL_CLIENT_ID and ' +
          'RINGCENTRAL_CLIENT_SECRET (with RINGCENTRAL_JWT, the default tenant connection).',
      );
    }
    if (!(await findTenant(db, tenantId))) {
      throw new UsageError(
        `There is no tenant "${tenantId}"; create it with faxflow tenants add NAME --id ${tenantId}.`,
      );
    }
    const jwt = await readJwt(typeof values['jwt-file'] === 'string' ? values['jwt-file'] : undefined, io);
    const cipher = await cipherFor(config, out);
    const { serverUrl, clientId, clientSecret } = config.ringcentral;
    try {
      const saved = await addJwtConnection(
        { db, cipher },
        { serverUrl, clientId, clientSecret },
        tenantId,
        jwt,
      );
      out(
        `${saved.reconnected ? 'Updated' : 'Added'} connection ${saved.id} for tenant ${tenantId}: ` +
          `${saved.identity.label}, account ${saved.identity.accountId}, extension ${saved.identity.extensionId}.`,
      );
      return 0;
    } catch (err) {
      if (err instanceof TokenRefusedError) throw new UsageError(`${err.reason}. Nothing was stored.`);
      throw err;
    }
  });
}

async function list(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseCommand(args, { tenant: { type: 'string' } }, LIST_HELP);
  if (values.help) {
    out(LIST_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`faxflow connections list takes no arguments.\n${LIST_HELP}`);
  return withCliDatabase(async ({ db }) => {
    const rows = await listConnections(
      db,
      typeof values.tenant === 'string' ? { tenantId: values.tenant } : {},
    );
    if (rows.length === 0) {
      out('No RingCentral connections.');
      return 0;
    }
    const lines = table(
      [
        'ID',
        'TENANT',
        'KIND',
        'STATUS',
        'ACCOUNT',
        'EXTENSION',
        'LABEL',
        'KEY',
        'VERSION',
        'SERVER',
        'REASON',
      ],
      rows.map((c) => [
        c.id,
        c.tenant_id,
        c.kind,
        c.status,
        c.account_id ?? '-',
        c.extension_id ?? '-',
        c.label || '-',
        c.token_key_id,
        String(c.token_version),
        c.server_url,
        c.status_reason ?? '',
      ]),
    );
    for (const line of lines) out(line);
    return 0;
  });
}

async function rotateKey(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, ROTATE_HELP);
  if (values.help) {
    out(ROTATE_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`faxflow connections rotate-key takes no arguments.\n${ROTATE_HELP}`);
  return withCliDatabase(async ({ db }, config) => {
    const cipher = await cipherFor(config, out);
    const connections = await rotateConnectionKeys({ db, cipher });
    const webhooks = await rotateWebhookSecretKeys({ db, cipher });
    for (const [result, what] of [
      [connections, 'connection(s)'],
      [webhooks, 'webhook endpoint secret(s)'],
    ] as const) {
      out(
        `Re-encrypted ${result.rotated.length} ${what} under key "${cipher.currentKeyId}"` +
          (result.failed.length > 0 ? `; ${result.failed.length} could not be opened:` : '.'),
      );
      for (const f of result.failed) out(`  ${f.id}: ${f.reason}`);
    }
    return connections.failed.length + webhooks.failed.length > 0 ? 1 : 0;
  });
}
