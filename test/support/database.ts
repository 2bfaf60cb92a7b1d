import { MockActivityEnvironment } from '@temporalio/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { inject } from 'vitest';
import type { ActivityDeps } from '../../src/activities';
import { TokenCipher } from '../../src/connections/token-cipher';
import { connectPostgres, type DatabaseHandle } from '../../src/db/connection';
import { createLocalDocumentStore } from '../../src/storage/local-document-store';
import { singleConnectionPool } from '../../src/ringcentral/single-connection-pool';
import { FakeRingCentral } from './fake-ringcentral';

/** The run's fresh database on the local PostgreSQL (created and migrated by the global setup). */
export function testDatabase(): DatabaseHandle {
  return connectPostgres(inject('databaseUrl'), { max: 4 });
}

export async function tempDir(prefix = 'faxflow-test-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export function uniqueJobId(label = 'job'): string {
  return `${label}-${randomUUID()}`;
}

/** The key ring of a test file's "processes" (routes seal webhook secrets with it, activities open them). */
export const testCipher = new TokenCipher([{ id: 'test', key: randomBytes(32) }]);

export async function makeActivityDeps(database: DatabaseHandle, ringcentral = new FakeRingCentral()) {
  const key = `test-${randomUUID()}`;
  const deps: ActivityDeps = {
    db: database.db,
    ringcentral,
    connections: singleConnectionPool(key, ringcentral),
    documents: createLocalDocumentStore(await tempDir()),
    logger: pino({ level: 'silent' }),
    secrets: testCipher,
    defaultRegion: 'US',
    credentialKey: key,
  };
  return { deps, ringcentral };
}

/** Runs an activity in Temporal's mock activity context (attempt 1 unless said otherwise). */
export function runActivity<T, R>(
  fn: (arg: T) => Promise<R>,
  arg: T,
  info: { attempt?: number; workflowExecution?: { workflowId: string; runId: string } } = {},
): Promise<R> {
  return new MockActivityEnvironment(info).run(fn, arg) as Promise<R>;
}
