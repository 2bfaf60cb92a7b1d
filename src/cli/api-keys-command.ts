import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/connection';
import { migrateToLatest } from '../db/migrate';
import { createApiKey, listApiKeys, revokeApiKey } from '../db/api-keys';
import { findTenant, TENANT_ID_PATTERN } from '../db/tenants';
import type { Db } from '../db/schema';
import { UsageError } from './errors';

type Out = (line: string) => void;

export const API_KEYS_HELP = `faxflow api-keys: API keys of the HTTP API (run where DATABASE_URL points at faxflow's database)

Usage:
  faxflow api-keys create --tenant TENANT [--name NAME] [--json]
                                 create a key; it is printed once and only its SHA-256 is kept
  faxflow api-keys list [--tenant TENANT] [--json]
                                 id, tenant, prefix, name, created, last used, revoked
  faxflow api-keys revoke ID     revoke a key at once (requests with it get 401)`;

type Spec = Record<string, { type: 'string' | 'boolean' }>;

function parse<S extends Spec>(args: string[], options: S, positionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\.$/, '')}; run faxflow api-keys --help.`);
  }
}

/** `faxflow api-keys create|list|revoke`: works on the database directly (the first key cannot come over HTTP). */
export async function runApiKeys(args: string[], out: Out, db?: Db): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    out(API_KEYS_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (!['create', 'list', 'revoke'].includes(sub)) {
    throw new UsageError(`Unknown api-keys command "${sub}"; use create, list or revoke.`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(API_KEYS_HELP);
    return 0;
  }
  if (db) return run(sub, rest, out, db);
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await migrateToLatest(database.db);
    return await run(sub, rest, out, database.db);
  } finally {
    await database.close();
  }
}

async function run(sub: string, args: string[], out: Out, db: Db): Promise<number> {
  if (sub === 'create') {
    const { values } = parse(args, {
      tenant: { type: 'string' },
      name: { type: 'string' },
      json: { type: 'boolean' },
    });
    const tenantId = values.tenant as string | undefined;
    if (!tenantId)
      throw new UsageError('faxflow api-keys create needs --tenant TENANT (e.g. --tenant default).');
    if (!TENANT_ID_PATTERN.test(tenantId) || !(await findTenant(db, tenantId))) {
      throw new UsageError(
        `There is no tenant "${tenantId.slice(0, 40)}"; create it first (or use "default").`,
      );
    }
    const name = values.name as string | undefined;
    if (name !== undefined && (name.length === 0 || name.length > 100)) {
      throw new UsageError('--name must be 1 to 100 characters.');
    }
    const created = await createApiKey(db, { tenantId, name: name ?? null });
    if (values.json) {
      out(JSON.stringify({ ...created, createdAt: created.createdAt.toISOString() }));
    } else {
      out(`API key ${created.id} for tenant ${tenantId}${name ? ` (${name})` : ''}:`);
      out(created.key);
      out('Keep it now: it is shown only this once (faxflow keeps its SHA-256).');
    }
    return 0;
  }
  if (sub === 'list') {
    const { values } = parse(args, { tenant: { type: 'string' }, json: { type: 'boolean' } });
    const keys = await listApiKeys(db, values.tenant as string | undefined);
    if (values.json) {
      out(
        JSON.stringify(
          keys.map((k) => ({
            id: k.id,
            tenantId: k.tenant_id,
            prefix: k.prefix,
            name: k.name,
            createdAt: k.created_at.toISOString(),
            lastUsedAt: k.last_used_at?.toISOString() ?? null,
            revokedAt: k.revoked_at?.toISOString() ?? null,
          })),
        ),
      );
      return 0;
    }
    if (keys.length === 0) {
      out('No API keys.');
      return 0;
    }
    const rows = keys.map((k) => [
      k.id,
      k.tenant_id,
      `${k.prefix}...`,
      k.name ?? '',
      k.created_at.toISOString(),
      k.last_used_at?.toISOString() ?? 'never',
      k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : 'active',
    ]);
    const header = ['ID', 'TENANT', 'PREFIX', 'NAME', 'CREATED', 'LAST USED', 'STATE'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows])
      out(
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      );
    return 0;
  }
  const { positionals } = parse(args, {}, true);
  const id = positionals[0];
  if (!id || positionals.length > 1)
    throw new UsageError('faxflow api-keys revoke needs exactly one key id (see list).');
  if (!(await revokeApiKey(db, id))) {
    throw new UsageError(`There is no active API key "${id.slice(0, 40)}".`);
  }
  out(`Revoked ${id}.`);
  return 0;
}
