import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main';
import { createConnectionPool } from '../../src/connections/connection-pool';
import { openSecret, secretStrings } from '../../src/connections/connection-secret';
import { TokenCipher } from '../../src/connections/token-cipher';
import { ConnectionTokenStore } from '../../src/connections/token-store';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connection';
import { migrateToLatest } from '../../src/db/migrate';
import { findConnection, listConnections } from '../../src/db/ringcentral-connections';
import { readWebhookSecrets } from '../../src/db/webhook-endpoint-secrets';
import { insertWebhookEndpoint } from '../../src/db/webhook-endpoints';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { tempDir } from '../support/database';
import { logger, logLines } from './helpers';

/**
 * The CLI on a database of its own (rotate-key re-encrypts every row of a database; the dump must
 * hold only what these tests wrote), against the simulator as the environment's RingCentral.
 */
const savedEnv = { ...process.env };
const keyOld = { id: 'old', key: randomBytes(32) };
const keyNew = { id: 'new', key: randomBytes(32) };
const envKey = (...keys: { id: string; key: Buffer }[]) =>
  keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

let sim: SimulatorHandle;
let databaseUrl: string;
let dbName: string;
let database: DatabaseHandle;
let dir: string;
const USER_JWT = `jwt-cli-${randomUUID()}`;

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  sim = await startSimulator({ extraUsers: [{ jwt: USER_JWT, name: 'Front Desk' }], rateLimits: false });
  dbName = `faxflow_conn_${process.pid}_${Date.now()}`;
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
  database = connectPostgres(databaseUrl, { max: 2 });
  await migrateToLatest(database.db);
  dir = await tempDir();
  process.env.DATABASE_URL = databaseUrl;
  process.env.FAXFLOW_DATA_DIR = await tempDir();
  process.env.RINGCENTRAL_SERVER_URL = sim.url;
  process.env.RINGCENTRAL_CLIENT_ID = sim.credentials.clientId;
  process.env.RINGCENTRAL_CLIENT_SECRET = sim.credentials.clientSecret;
  process.env.RINGCENTRAL_JWT = sim.credentials.jwt;
  process.env.FAXFLOW_ENCRYPTION_KEY = envKey(keyOld);
});
afterAll(async () => {
  process.env = savedEnv;
  await database?.close();
  await sim?.close();
  if (dbName) await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
});

async function run(argv: string[], stdin: string | undefined = undefined) {
  const out: string[] = [];
  const err: string[] = [];
  const input = Object.assign(Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]), {
    isTTY: stdin === undefined ? true : undefined,
  });
  const code = await main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
    input,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('faxflow tenants', () => {
  it('adds a tenant (id made from the name, or --id), refuses a taken or malformed id, and lists it', async () => {
    const suffix = randomUUID().slice(0, 6);
    const added = await run(['tenants', 'add', `Acme Clinic ${suffix}`]);
    expect(added).toMatchObject({ code: 0, err: '' });
    expect(added.out).toBe(`Created tenant acme-clinic-${suffix} (Acme Clinic ${suffix}).`);
    expect(await run(['tenants', 'add', 'Other', '--id', `acme-clinic-${suffix}`])).toMatchObject({
      code: 2,
      err: `faxflow: A tenant with id "acme-clinic-${suffix}" exists already; choose another with --id.`,
    });
    const bad = await run(['tenants', 'add', 'Other', '--id', 'Bad_Id']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--id "Bad_Id" is not a tenant id: use 1 to 40 lower-case letters/);
    expect((await run(['tenants', 'add'])).err).toMatch(/takes one NAME/);
    expect((await run(['tenants', 'add', 'x', '--bogus'])).err).toMatch(
      /Unknown option '--bogus'[\s\S]*Usage: faxflow tenants add/,
    );
    const listed = await run(['tenants', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ID\s+NAME\s+CONNECTIONS/);
    expect(listed.out).toMatch(new RegExp(`acme-clinic-${suffix}\\s+Acme Clinic ${suffix}\\s+0/0`));
    expect(listed.out).toMatch(/default\s+Default tenant/);
  });

  it('has --help on each command and a clear error for an unknown one', async () => {
    for (const argv of [
      ['tenants', '--help'],
      ['tenants', 'add', '--help'],
      ['tenants', 'list', '--help'],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.out).toMatch(/Usage:/);
    }
    expect(await run(['tenants', 'remove'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/Unknown tenants command "remove"/) as unknown,
    });
  });
});

describe('faxflow connections', () => {
  let tenant: string;
  let connectionId: string;

  beforeAll(async () => {
    tenant = `cli-${randomUUID().slice(0, 8)}`;
    expect((await run(['tenants', 'add', 'CLI tenant', '--id', tenant])).code).toBe(0);
  });

  it('add-jwt reads the JWT from stdin, logs in once, and stores the user it belongs to', async () => {
    const before = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
      callsByEndpoint: Record<string, number>;
    };
    const r = await run(['connections', 'add-jwt', '--tenant', tenant], `${USER_JWT}\n`);
    expect(r).toMatchObject({ code: 0, err: '' });
    const m =
      /^Added connection ([0-9a-f]{16}) for tenant (\S+): Front Desk \(ext\. \d+\), account (\d+), extension (\d+)\.$/.exec(
        r.out,
      );
    expect(m, r.out).not.toBeNull();
    connectionId = m![1]!;
    const after = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
      callsByEndpoint: Record<string, number>;
    };
    expect(
      (after.callsByEndpoint['POST /restapi/oauth/token'] ?? 0) -
        (before.callsByEndpoint['POST /restapi/oauth/token'] ?? 0),
    ).toBe(1);
    const row = await findConnection(database.db, connectionId);
    expect(row).toMatchObject({
      tenant_id: tenant,
      kind: 'jwt',
      status: 'active',
      token_key_id: 'old',
      account_id: m![3],
      extension_id: m![4],
    });
    expect(row!.token_ciphertext).not.toContain(USER_JWT);
  });

  it('add-jwt from a file updates the same connection; a JWT on the command line is refused', async () => {
    const file = path.join(dir, 'user.jwt');
    await writeFile(file, USER_JWT);
    const r = await run(['connections', 'add-jwt', '--tenant', tenant, '--jwt-file', file]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Updated connection ${connectionId} for tenant ${tenant}`));
    expect((await findConnection(database.db, connectionId))?.token_version).toBe(2);

    for (const argv of [
      ['connections', 'add-jwt', '--tenant', tenant, '--jwt', USER_JWT],
      ['connections', 'add-jwt', '--tenant', tenant, `--jwt=${USER_JWT}`],
    ]) {
      const refused = await run(argv);
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/never takes a JWT from the command line/);
      expect(refused.err).not.toContain(USER_JWT);
    }
    expect((await run(['connections', 'add-jwt'], USER_JWT)).err).toMatch(/needs --tenant ID/);
    expect((await run(['connections', 'add-jwt', '--tenant', 'nobody'], USER_JWT)).err).toMatch(
      /There is no tenant "nobody"/,
    );
    expect((await run(['connections', 'add-jwt', '--tenant', tenant])).err).toMatch(
      /reads the JWT from stdin/,
    );
    expect((await run(['connections', 'add-jwt', '--tenant', tenant], '  \n')).err).toMatch(
      /No JWT on stdin/,
    );
    expect(
      (await run(['connections', 'add-jwt', '--tenant', tenant, '--jwt-file', path.join(dir, 'missing')]))
        .err,
    ).toMatch(/Cannot read --jwt-file .*ENOENT/);
    const refusedLogin = await run(['connections', 'add-jwt', '--tenant', tenant], 'not-a-valid-assertion');
    expect(refusedLogin.code).toBe(2);
    expect(refusedLogin.err).toMatch(/RingCentral refused the JWT login: OAU-140 .*Nothing was stored\./);
  });

  it('list shows the connection and never a secret', async () => {
    const r = await run(['connections', 'list', '--tenant', tenant]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+TENANT\s+KIND\s+STATUS/);
    expect(r.out).toMatch(new RegExp(`${connectionId}\\s+${tenant}\\s+jwt\\s+active`));
    const row = (await findConnection(database.db, connectionId))!;
    const secrets = secretStrings(openSecret(new TokenCipher([keyOld]), row));
    expect(secrets.length).toBe(3);
    for (const s of secrets) expect(r.out).not.toContain(s);
    for (const argv of [
      ['connections', '--help'],
      ['connections', 'add-jwt', '--help'],
      ['connections', 'list', '--help'],
      ['connections', 'rotate-key', '--help'],
    ]) {
      const help = await run(argv);
      expect(help.code, argv.join(' ')).toBe(0);
      expect(help.out).toMatch(/Usage:/);
    }
  });

  it('rotate-key re-encrypts every connection and webhook secret under the new key; the old key can then go', async () => {
    // Two webhook endpoints: one sealed under the old key, one still in clear (written by a release
    // before migration 2026-11-27T1700).
    const endpoints = [
      { id: `we_${randomBytes(12).toString('hex')}`, secret: `whsec_${randomBytes(32).toString('base64')}` },
      { id: `we_${randomBytes(12).toString('hex')}`, secret: `whsec_${randomBytes(32).toString('base64')}` },
    ] as const;
    await insertWebhookEndpoint(database.db, new TokenCipher([keyOld]), {
      id: endpoints[0].id,
      tenantId: tenant,
      url: 'https://hooks.example.com/a',
      events: ['fax.sent'],
      secret: endpoints[0].secret,
    });
    await database.db
      .insertInto('webhook_endpoints')
      .values({
        id: endpoints[1].id,
        tenant_id: tenant,
        url: 'https://hooks.example.com/b',
        events: ['fax.sent'],
        secret: endpoints[1].secret,
      })
      .execute();
    const before = await listConnections(database.db);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((c) => c.token_key_id === 'old')).toBe(true);
    const plain = new Map(
      await Promise.all(
        before.map(
          async (c) =>
            [
              c.id,
              openSecret(new TokenCipher([keyOld]), (await findConnection(database.db, c.id))!),
            ] as const,
        ),
      ),
    );
    process.env.FAXFLOW_ENCRYPTION_KEY = envKey(keyNew, keyOld);
    const r = await run(['connections', 'rotate-key']);
    expect(r).toMatchObject({
      code: 0,
      out:
        `Re-encrypted ${before.length} connection(s) under key "new".\n` +
        'Re-encrypted 2 webhook endpoint secret(s) under key "new".',
    });
    // Only the new key from here on: every row still opens, to the same secret and token version.
    const onlyNew = new TokenCipher([keyNew]);
    for (const c of before) {
      const row = (await findConnection(database.db, c.id))!;
      expect(row.token_key_id).toBe('new');
      expect(row.token_version).toBe(c.token_version);
      expect(openSecret(onlyNew, row)).toEqual(plain.get(c.id));
    }
    for (const e of endpoints) {
      const row = await database.db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('id', '=', e.id)
        .executeTakeFirstOrThrow();
      expect(row).toMatchObject({ secret: null, previous_secret: null, secret_key_id: 'new' });
      expect((await readWebhookSecrets(database.db, onlyNew, row)).secrets).toEqual({
        current: e.secret,
        previous: null,
      });
    }
    const { stdout: dump } = await promisify(execFile)('pg_dump', ['--data-only', databaseUrl], {
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(dump).toContain(endpoints[1].id);
    for (const e of endpoints) {
      for (let i = 0; i + 16 <= e.secret.length; i++) {
        expect(dump.includes(e.secret.slice(i, i + 16)), 'pg_dump holds a webhook secret').toBe(false);
      }
    }
    expect((await run(['connections', 'rotate-key'])).out).toBe(
      'Re-encrypted 0 connection(s) under key "new".\nRe-encrypted 0 webhook endpoint secret(s) under key "new".',
    );
    // A key that is gone: says which rows and which key, exit 1.
    process.env.FAXFLOW_ENCRYPTION_KEY = envKey({ id: 'newest', key: randomBytes(32) });
    const lost = await run(['connections', 'rotate-key']);
    expect(lost.code).toBe(1);
    expect(lost.out).toMatch(/could not be opened/);
    expect(lost.out).toMatch(/encrypted with key "new", which FAXFLOW_ENCRYPTION_KEY does not hold/);
    expect(lost.out).toMatch(/webhook endpoint secret\(s\) under key "newest"; 2 could not be opened/);
    expect(lost.out).toContain(
      `${endpoints[0].id}: the secret of webhook-endpoint:${endpoints[0].id} is encrypted`,
    );
    for (const e of endpoints) expect(lost.out).not.toContain(e.secret);
    process.env.FAXFLOW_ENCRYPTION_KEY = envKey(keyNew);
  });

  it('no token or JWT appears in a pg_dump of the database or in the logs, after logins and refreshes', async () => {
    const cipher = new TokenCipher([keyNew]);
    const tokens = new ConnectionTokenStore({
      db: database.db,
      cipher,
      appSecret: () => sim.credentials.clientSecret,
      logger,
    });
    const pool = createConnectionPool({
      db: database.db,
      tokens,
      budget: () => ({ limit: 1000, windowMs: 1000 }),
      maxSlotWaitMs: { Heavy: 0, Medium: 0, Light: 0 },
      logger,
    });
    try {
      const seen = new Set<string>();
      const remember = async () => {
        const row = (await findConnection(database.db, connectionId))!;
        for (const s of secretStrings(openSecret(cipher, row))) seen.add(s);
      };
      await remember();
      const client = await pool.forConnection(connectionId);
      await client.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) });
      // Force a refresh: a new pair is stored (and the old one is dead).
      await database.db
        .updateTable('ringcentral_connections')
        .set({ access_token_expires_at: new Date(0) })
        .where('id', '=', connectionId)
        .execute();
      await client.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) });
      await remember();
      expect(seen.size).toBe(5); // two pairs and the JWT

      const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', databaseUrl], {
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(stdout).toContain(connectionId);
      const logs = logLines.join('');
      expect(logs).toMatch(/RingCentral connection token renewed/);
      for (const secret of seen) {
        expect(stdout.includes(secret), 'token in pg_dump').toBe(false);
        expect(logs.includes(secret), 'token in logs').toBe(false);
      }
      // Nor in the data folder (where the development key would be).
      const dataDir = process.env.FAXFLOW_DATA_DIR!;
      for (const name of await readdir(dataDir)) {
        const content = await readFile(path.join(dataDir, name), 'utf8').catch(() => '');
        for (const secret of seen) expect(content.includes(secret)).toBe(false);
      }
    } finally {
      await pool.close();
    }
  });
});
