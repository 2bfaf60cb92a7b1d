import { listConnections } from '../db/ringcentral-connections';
import { createTenant, listTenants, TENANT_ID_PATTERN } from '../db/tenants';
import { parseCommand, table, withCliDatabase } from './cli-database';
import { UsageError } from './errors';

type Out = (line: string) => void;

export const TENANTS_HELP = `faxflow tenants: the customers faxflow sends for

Usage:
  faxflow tenants add NAME [--id ID]   create a tenant (ID: lower-case letters, digits and "-", at most 40;
                                       default: made from NAME)
  faxflow tenants list                 every tenant, with its number of RingCentral connections

Connect a tenant's RingCentral user with faxflow connections add-jwt --tenant ID (see faxflow connections --help).`;

const ADD_HELP = `Usage: faxflow tenants add NAME [--id ID]
Creates a tenant. ID: 1 to 40 lower-case letters, digits and "-", starting with a letter or digit;
without --id it is made from NAME ("Acme Clinic" -> acme-clinic).`;

const LIST_HELP = `Usage: faxflow tenants list
Lists every tenant: id, name, RingCentral connections (active / all), created, disabled.`;

/** `acme-clinic` from "Acme Clinic!" */
export function tenantIdFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
}

export async function runTenants(args: string[], out: Out): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return add(rest, out);
    case 'list':
      return list(rest, out);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(TENANTS_HELP);
      return 0;
    default:
      throw new UsageError(
        `Unknown tenants command "${sub}"; the commands are add and list (faxflow tenants --help).`,
      );
  }
}

async function add(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseCommand(args, { id: { type: 'string' } }, ADD_HELP);
  if (values.help) {
    out(ADD_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `faxflow tenants add takes one NAME (quote a name with spaces), got ${positionals.length}.\n${ADD_HELP}`,
    );
  }
  const name = positionals[0]!.trim();
  if (name === '' || name.length > 200)
    throw new UsageError('The tenant NAME must have 1 to 200 characters.');
  const id = typeof values.id === 'string' ? values.id : tenantIdFromName(name);
  if (!TENANT_ID_PATTERN.test(id)) {
    throw new UsageError(
      typeof values.id === 'string'
        ? `--id "${id}" is not a tenant id: use 1 to 40 lower-case letters, digits and "-", starting with a letter or digit.`
        : `Cannot make a tenant id from "${name}"; give one with --id (lower-case letters, digits and "-").`,
    );
  }
  return withCliDatabase(async ({ db }) => {
    if (!(await createTenant(db, { id, name }))) {
      throw new UsageError(`A tenant with id "${id}" exists already; choose another with --id.`);
    }
    out(`Created tenant ${id} (${name}).`);
    return 0;
  });
}

async function list(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, LIST_HELP);
  if (values.help) {
    out(LIST_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`faxflow tenants list takes no arguments.\n${LIST_HELP}`);
  return withCliDatabase(async ({ db }) => {
    const [tenants, connections] = await Promise.all([listTenants(db), listConnections(db)]);
    const rows = tenants.map((t) => {
      const own = connections.filter((c) => c.tenant_id === t.id);
      return [
        t.id,
        t.name,
        `${own.filter((c) => c.status === 'active').length}/${own.length}`,
        t.created_at.toISOString(),
        t.disabled_at ? t.disabled_at.toISOString() : '-',
      ];
    });
    for (const line of table(['ID', 'NAME', 'CONNECTIONS', 'CREATED', 'DISABLED'], rows)) out(line);
    return 0;
  });
}
