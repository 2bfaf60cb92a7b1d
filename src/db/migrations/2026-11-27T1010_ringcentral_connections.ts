import { sql, type Kysely } from 'kysely';

/**
 * The RingCentral users (extensions) tenants connected (issue 11). The token set is stored only
 * encrypted (AES-256-GCM, see connections/token-cipher.ts) with the id of the key that sealed it;
 * `token_version` goes up by one with every new token set, so a process that saw version n and got
 * a 401 can tell whether someone else has refreshed since. One live connection per tenant and
 * RingCentral user: a revoked one may be replaced by a new one for the same user.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ringcentral_connections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('jwt', 'pkce')`))
    .addColumn('server_url', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    // Learned at connect time (GET /restapi/v1.0/account/~/extension/~); the environment's JWT
    // connection learns them at its first login.
    .addColumn('account_id', 'text')
    .addColumn('extension_id', 'text')
    .addColumn('label', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'needs-reconnect', 'revoked')`),
    )
    .addColumn('status_reason', 'text')
    .addColumn('token_ciphertext', 'text', (c) => c.notNull())
    .addColumn('token_key_id', 'text', (c) => c.notNull())
    .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('access_token_expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('connected_at', 'timestamptz')
    .execute();
  await sql`
    CREATE UNIQUE INDEX ringcentral_connections_user
    ON ringcentral_connections (tenant_id, server_url, account_id, extension_id)
    WHERE status <> 'revoked'`.execute(db);
  await db.schema
    .createIndex('ringcentral_connections_tenant')
    .on('ringcentral_connections')
    .column('tenant_id')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ringcentral_connections').execute();
}
