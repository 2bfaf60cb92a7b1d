import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main';
import { consumeConnectLink } from '../../src/db/connect-links';
import type { DatabaseHandle } from '../../src/db/connection';
import { newTenant } from '../api/connect-helpers';
import { testDatabase } from '../support/database';

const savedEnv = { ...process.env };
let database: DatabaseHandle;

beforeAll(() => {
  database = testDatabase();
  process.env.DATABASE_URL = inject('databaseUrl');
  process.env.FAXFLOW_PUBLIC_URL = 'https://fax.example.com/base/';
});
afterAll(async () => {
  process.env = savedEnv;
  await database.close();
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err: err.join('\n') };
}

describe('faxflow connections link', () => {
  it('prints a one-time link under FAXFLOW_PUBLIC_URL that the connect route accepts once', async () => {
    const tenant = await newTenant(database.db, 'Clinic');
    const r = await run('connections', 'link', '--tenant', tenant);
    expect(r.code).toBe(0);
    const url = new URL(r.out[0] ?? '');
    expect(`${url.origin}${url.pathname}`).toBe('https://fax.example.com/base/connect/ringcentral');
    expect(url.searchParams.get('tenant')).toBe(tenant);
    expect(r.out[1]).toContain('Valid once, for 15 minutes');
    const token = url.searchParams.get('token') ?? '';
    expect((await consumeConnectLink(database.db, tenant, token)).ok).toBe(true);
    expect(await consumeConnectLink(database.db, tenant, token)).toEqual({ ok: false, why: 'used' });
  });

  it('says clearly what is wrong: no tenant, a bad id, an unknown tenant, an unknown subcommand', async () => {
    expect(await run('connections', 'link')).toMatchObject({
      code: 2,
      err: 'faxflow: faxflow connections link needs --tenant T (faxflow tenants list shows the ids).',
    });
    expect((await run('connections', 'link', '--tenant', 'Bad Id')).err).toContain('is not a tenant id');
    expect((await run('connections', 'link', '--tenant', 'no-such-tenant')).err).toBe(
      'faxflow: There is no tenant "no-such-tenant" (faxflow tenants list shows them).',
    );
    expect((await run('connections', 'link', '--tenant', 'x', '--bogus')).code).toBe(2);
    expect((await run('connections', 'frobnicate')).err).toContain('faxflow connections link --tenant T');
  });
});
