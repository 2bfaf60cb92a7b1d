import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main';
import { faxWorkflowId } from '../../src/contracts/workflow-ids';
import { tempDir, uniqueJobId } from '../support/database';
import { makeCorruptPdf, makeSamplePdf } from '../support/pdf-fixtures';

let dir: string;
let dataDir: string;
let connection: Connection;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dir = await tempDir();
  dataDir = await tempDir();
  await writeFile(path.join(dir, 'good.pdf'), await makeSamplePdf(1));
  await writeFile(path.join(dir, 'corrupt.pdf'), makeCorruptPdf());
  await writeFile(path.join(dir, 'photo.pdf'), Buffer.from([0x00, 0x9f, 0x92, 0x96, 0xff, 0x01]));
  process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
  process.env.FAXFLOW_DATA_DIR = dataDir;
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  process.env = savedEnv;
  await connection.close();
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function expectNothingStarted(key: string): Promise<void> {
  const client = new Client({ connection });
  await expect(client.workflow.getHandle(faxWorkflowId(key)).describe()).rejects.toBeInstanceOf(
    WorkflowNotFoundError,
  );
  await expect(readdir(path.join(dataDir, 'documents'))).rejects.toMatchObject({ code: 'ENOENT' });
}

describe('faxflow CLI: bad input gets one sentence, a non-zero exit and no side effects', () => {
  it.each([
    ['a missing file', ['missing.pdf'], '+12025550123', /The file .*missing\.pdf does not exist\./],
    [
      'a file that is not a fax document',
      ['photo.pdf'],
      '+12025550123',
      /photo\.pdf is not a supported document type; send PDF, TIFF/,
    ],
    [
      'an unparsable PDF',
      ['corrupt.pdf'],
      '+12025550123',
      /corrupt\.pdf is not a readable PDF .*\[CORRUPT_PDF\]/,
    ],
    [
      'a number that is not a phone number',
      ['good.pdf'],
      'fax me',
      /"fax me" is not a phone number; give it in E\.164 form/,
    ],
  ])('refuses %s', async (_label, files, to, message) => {
    const key = uniqueJobId('cli');
    const result = await run('send', ...files.map((f) => path.join(dir, f)), '--to', to, '--key', key);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err.split('\n')).toHaveLength(1);
    expect(result.err).not.toMatch(/\n\s+at /);
    await expectNothingStarted(key);
  });

  it('refuses a missing or wrong setting, naming it', async () => {
    process.env.DATABASE_URL = 'mysql://localhost/fax';
    try {
      const result = await run('migrate');
      expect(result).toMatchObject({
        code: 2,
        err: 'faxflow: DATABASE_URL must be a postgres:// or postgresql:// connection URL.',
      });
    } finally {
      delete process.env.DATABASE_URL;
    }
  });

  it('refuses a send time in the past or years ahead', async () => {
    const file = path.join(dir, 'good.pdf');
    const past = await run('send', file, '--to', '+12025550123', '--send-at', '2020-01-01T00:00:00Z');
    expect(past).toMatchObject({
      code: 2,
      err: expect.stringContaining('is in the past; give a time from now on'),
    });
    const far = await run('send', file, '--to', '+12025550123', '--send-at', '2099-01-01T00:00:00Z');
    expect(far).toMatchObject({ code: 2, err: expect.stringContaining('is more than a year ahead') });
  });

  it('refuses an unknown simulator scenario, naming the known ones', async () => {
    expect(await run('simulator', '--port', '0', '--scenario', 'stormy')).toMatchObject({
      code: 2,
      err: 'faxflow: Unknown simulator scenario "stormy"; the scenarios are calm, flaky, lossy-webhooks, ambiguous, sent-final, delivery-reports.',
    });
  });

  it('refuses an unknown simulator status model', async () => {
    expect(await run('simulator', '--port', '0', '--status-model', 'delivered')).toMatchObject({
      code: 2,
      err: 'faxflow: --status-model must be sent-final or delivery-reports, not "delivered".',
    });
  });

  it('refuses unknown commands and options with the list of what exists', async () => {
    expect(await run('fxa')).toMatchObject({
      code: 2,
      err: expect.stringContaining('the commands are demo, dev, send'),
    });
    expect(await run('demo', '--colour')).toMatchObject({
      code: 2,
      err: expect.stringContaining("Unknown option '--colour'"),
    });
    expect(await run('send', '--to', '+12025550123')).toMatchObject({
      code: 2,
      err: expect.stringContaining('needs at least one file'),
    });
  });

  it('submits a good fax and answers a repeated key with the same job', async () => {
    const key = uniqueJobId('cli');
    const args = [
      'send',
      path.join(dir, 'good.pdf'),
      '--to',
      '+12025550123',
      '--key',
      key,
      '--send-at',
      new Date(Date.now() + 86_400_000).toISOString(),
    ];
    const first = await run(...args);
    expect(first).toMatchObject({ code: 0, out: `Started: job ${key} (workflow ${faxWorkflowId(key)})` });
    const second = await run(...args);
    expect(second).toMatchObject({
      code: 0,
      out: `Already submitted: job ${key} (workflow ${faxWorkflowId(key)})`,
    });
    const client = new Client({ connection });
    await client.workflow
      .getHandle(faxWorkflowId(key))
      .terminate('test cleanup: no worker serves this queue');
  });
});
