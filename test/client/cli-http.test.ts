import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { runFaxCommand, type CliIo } from '../../src/cli/fax-command';
import { statusLine } from '../../src/cli/fax-http';
import { runWebhookEndpointsCommand } from '../../src/cli/webhook-endpoints-command';
import type { V1Fax } from '../../src/contracts/v1-api';
import type { DatabaseHandle } from '../../src/db/connection';
import { createTenant } from '../../src/db/tenants';
import { webhookEndpointRoutes } from '../../src/events/webhook-endpoints-routes';
import { tempDir, testCipher, testDatabase } from '../support/database';
import { API_KEY, startFakeV1, type FakeV1 } from './fake-v1-server';

let fake: FakeV1;
let dir: string;
let file: string;
beforeAll(async () => {
  fake = await startFakeV1();
  dir = await tempDir();
  file = path.join(dir, 'a.pdf');
  await writeFile(file, '%PDF-1.7 tiny');
});
afterAll(async () => {
  await fake?.close();
});

function io(env: NodeJS.ProcessEnv = { FAXFLOW_API_URL: fake.url, FAXFLOW_API_KEY: API_KEY }) {
  const out: string[] = [];
  const err: string[] = [];
  const live: string[] = [];
  const cli: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), live: (l) => live.push(l), env };
  return { cli, out, err, live };
}

const sendOne = async (extra: string[] = []) => {
  const t = io();
  const code = await runFaxCommand(['send', file, '--to', '+14155550100', '--json', ...extra], t.cli);
  return { code, fax: JSON.parse(t.out[0]!) as V1Fax, t };
};

describe('faxflow fax (over the HTTP API)', () => {
  it('send --wait shows a live line per change and exits 0 on delivery', async () => {
    const t = io();
    fake.scripts.clear();
    const sent = runFaxCommand(
      ['send', file, '--to', '+14155550100', '--wait', '--metadata', 'claim=C-9'],
      t.cli,
    );
    // The fake moves the next fax along this script, one step per poll.
    const id = `fax-${[...fake.faxes.keys()].length + 1}`;
    fake.scripts.set(id, ['Sending', 'WaitingToRedial', 'Sending', 'Queued', 'Delivered']);
    expect(await sent).toBe(0);
    expect(t.out[0]).toMatch(new RegExp(`^Submitted: ${id} to \\+14155550100`));
    expect(t.live.filter(Boolean).map((l) => l.split(' · ')[0])).toEqual(
      ['Sending', 'WaitingToRedial', 'Sending', 'Queued', 'Delivered'].map((s) => `${id}: ${s}`),
    );
    expect(t.live.some((l) => l.includes('attempt 2'))).toBe(true);
    expect(t.out.at(-1)).toMatch(`${id}: Delivered`);
    expect(fake.faxes.get(id)!.metadata).toEqual({ claim: 'C-9' });
  }, 30_000);

  it.each([
    ['Failed', 3],
    ['Rejected', 4],
    ['Canceled', 5],
  ] as const)(
    'send --wait exits with the code for %s',
    async (status, code) => {
      const t = io();
      const id = `fax-${[...fake.faxes.keys()].length + 1}`;
      const sent = runFaxCommand(['send', file, '--to', '+14155550100', '--wait', '--json'], t.cli);
      fake.scripts.set(id, [status]);
      expect(await sent).toBe(code);
      expect(JSON.parse(t.out.at(-1)!)).toMatchObject({ id, status });
    },
    30_000,
  );

  it('status, list (table and --json), cancel, reschedule, report', async () => {
    const { code, fax } = await sendOne();
    expect(code).toBe(0);
    let t = io();
    expect(await runFaxCommand(['status', fax.id], t.cli)).toBe(0);
    expect(t.out[0]).toBe(`${fax.id}: Accepted · send`);

    t = io();
    expect(await runFaxCommand(['list', '--limit', '3'], t.cli)).toBe(0);
    const lines = t.out[0]!.split('\n');
    expect(lines[0]).toMatch(/^ID\s+TO\s+STATUS\s+ATTEMPTS\s+CREATED\s+COMPLETED$/);
    expect(lines).toHaveLength(4);
    t = io();
    expect(await runFaxCommand(['list', '--json'], t.cli)).toBe(0);
    expect(t.out.map((l) => (JSON.parse(l) as V1Fax).id)).toContain(fax.id);

    t = io();
    expect(await runFaxCommand(['reschedule', fax.id, '--send-at', '2031-01-01T10:00:00Z'], t.cli)).toBe(0);
    expect(t.out[0]).toBe(`Rescheduled ${fax.id} to 2031-01-01T10:00:00Z`);
    t = io();
    expect(await runFaxCommand(['cancel', fax.id], t.cli)).toBe(0);
    t = io();
    expect(await runFaxCommand(['cancel', fax.id], t.cli)).toBe(6);
    expect(t.err[0]).toMatch(/already Canceled.*\[FAX_ALREADY_FINAL\]/);
    t = io();
    expect(await runFaxCommand(['status', fax.id], t.cli)).toBe(5);

    const out = path.join(dir, 'r.pdf');
    t = io();
    expect(await runFaxCommand(['report', fax.id, '--out', out], t.cli)).toBe(0);
    expect((await readFile(out)).toString()).toContain('%PDF');
    t = io();
    expect(await runFaxCommand(['status', 'nope'], t.cli)).toBe(6);
    expect(t.err[0]).toContain('[FAX_NOT_FOUND]');
  });

  it('usage errors exit 2 with one sentence, before any request', async () => {
    const n = fake.requests.length;
    const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
      [['fax', 'send', file], /needs --to/],
      [['fax', 'send', '--to', '+14155550100'], /at least one file/],
      [['fax', 'send', file, '--to', '+1', '--send-at', 'tomorrow'], /ISO 8601/],
      [['fax', 'send', file, '--to', '+1', '--metadata', 'nokey'], /KEY=VALUE/],
      [['fax', 'send', file, '--to', '+1', '--to', '+2', '--wait'], /broadcast/],
      [['fax', 'status'], /exactly one fax id/],
      [['fax', 'list', '--limit', '0'], /--limit/],
      [['fax', 'reschedule', 'x'], /--send-at/],
      [['fax', 'explode'], /Unknown fax command/],
      [['fax', 'status', 'x', '--bogus'], /Unknown option/],
      [['webhook-endpoints', 'create'], /--url/],
      [
        ['webhook-endpoints', 'create', '--url', 'https://x', '--events', 'fax.exploded'],
        /Unknown event type/,
      ],
      [['webhook-endpoints', 'delete'], /exactly one endpoint id/],
      [['fax'], /needs a command: send, status/],
      [['webhook-endpoints'], /needs a command: list, create/],
    ];
    for (const [argv, message] of cases) {
      const out: string[] = [];
      const err: string[] = [];
      const saved = { url: process.env.FAXFLOW_API_URL, key: process.env.FAXFLOW_API_KEY };
      process.env.FAXFLOW_API_URL = fake.url;
      process.env.FAXFLOW_API_KEY = API_KEY;
      try {
        expect(
          await main(
            argv,
            (l) => out.push(l),
            (l) => err.push(l),
          ),
          argv.join(' '),
        ).toBe(2);
      } finally {
        if (saved.url === undefined) delete process.env.FAXFLOW_API_URL;
        else process.env.FAXFLOW_API_URL = saved.url;
        if (saved.key === undefined) delete process.env.FAXFLOW_API_KEY;
        else process.env.FAXFLOW_API_KEY = saved.key;
      }
      expect(err.join('\n'), argv.join(' ')).toMatch(message);
    }
    const t = io({});
    await expect(runFaxCommand(['status', 'x'], t.cli)).rejects.toThrow(/FAXFLOW_API_URL/);
    expect(fake.requests.length).toBe(n);
  });

  it('--help documents every command and the exit codes', async () => {
    for (const argv of [
      ['fax', '--help'],
      ['fax', 'send', '--help'],
      ['webhook-endpoints', '--help'],
    ]) {
      const out: string[] = [];
      expect(await main(argv, (l) => out.push(l))).toBe(0);
      expect(out.join('\n')).toMatch(
        /Exit codes: 0 delivered .* 2 usage error, 3 failed .* 4 rejected, 5 canceled/s,
      );
    }
    const out: string[] = [];
    await main(['help'], (l) => out.push(l));
    expect(out.join('\n')).toContain('faxflow fax send|status|list|cancel|reschedule|report');
  });

  it('statusLine names the next redial and when', () => {
    const fax = {
      id: 'inv-1',
      status: 'WaitingToRedial',
      final: false,
      attempts: [{ attempt: 2, messageId: 'm2' }],
      nextAction: { kind: 'redial', at: new Date(Date.parse('2030-01-01T10:00:00Z')).toISOString() },
      error: null,
    } as unknown as V1Fax;
    expect(statusLine(fax, Date.parse('2030-01-01T09:56:40Z'))).toBe(
      'inv-1: WaitingToRedial · attempt 2 (message m2) · next redial at 10:00:00Z (in 3m 20s)',
    );
  });
});

describe('faxflow webhook-endpoints (against the real routes plugin)', () => {
  let database: DatabaseHandle;
  let app: FastifyInstance;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    database = testDatabase();
    const tenant = `c-${randomUUID().slice(0, 8)}`;
    await createTenant(database.db, { id: tenant, name: 'CLI' });
    app = Fastify();
    app.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== `Bearer ${API_KEY}`) {
        return reply
          .code(401)
          .send({ error: { code: 'UNAUTHENTICATED', message: 'A valid API key is required.' } });
      }
      (request as unknown as { tenant: unknown }).tenant = { id: tenant, apiKeyId: 'k' };
    });
    await app.register(webhookEndpointRoutes, { db: database.db, cipher: testCipher, prefix: '/v1' });
    env = { FAXFLOW_API_URL: await app.listen({ host: '127.0.0.1', port: 0 }), FAXFLOW_API_KEY: API_KEY };
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('create shows the secret once; list, rotate, enable, delete', async () => {
    let t = io(env);
    expect(
      await runWebhookEndpointsCommand(
        ['create', '--url', 'https://ehr.example.com/hook', '--events', 'fax.delivered,fax.failed'],
        t.cli,
      ),
    ).toBe(0);
    expect(t.out[0]).toMatch(
      /^Created (we_[0-9a-f]{24}) -> https:\/\/ehr\.example\.com\/hook \(fax\.delivered, fax\.failed\)$/,
    );
    expect(t.out[1]).toMatch(/^Signing secret \(shown once, keep it\): whsec_/);
    const id = /we_[0-9a-f]{24}/.exec(t.out[0]!)![0];

    t = io(env);
    expect(await runWebhookEndpointsCommand(['list'], t.cli)).toBe(0);
    expect(t.out[0]).toMatch(
      new RegExp(
        `^ID\\s+URL\\s+STATUS\\s+EVENTS\\n${id}\\s+https://ehr.example.com/hook\\s+enabled\\s+fax.delivered,fax.failed$`,
      ),
    );
    expect(t.out.join('')).not.toContain('whsec_');

    t = io(env);
    expect(await runWebhookEndpointsCommand(['rotate', id, '--json'], t.cli)).toBe(0);
    expect(JSON.parse(t.out[0]!)).toMatchObject({ id, secret: expect.stringMatching(/^whsec_/) });
    t = io(env);
    expect(await runWebhookEndpointsCommand(['enable', id], t.cli)).toBe(0);
    t = io(env);
    expect(await runWebhookEndpointsCommand(['delete', id], t.cli)).toBe(0);
    t = io(env);
    expect(await runWebhookEndpointsCommand(['delete', id], t.cli)).toBe(6);
    expect(t.err[0]).toContain('[WEBHOOK_ENDPOINT_NOT_FOUND]');
    t = io(env);
    expect(await runWebhookEndpointsCommand(['create', '--url', 'http://ehr.example.com/hook'], t.cli)).toBe(
      6,
    );
    expect(t.err[0]).toMatch(/https.*\[VALIDATION_FAILED\]/);
  });
});

describe('faxflow webhook-endpoints', () => {
  it('reports the API refusing (the fake has no such routes) with exit 6', async () => {
    const t = io();
    expect(await runWebhookEndpointsCommand(['list'], t.cli)).toBe(6);
    expect(t.err[0]).toMatch(/\[HTTP_404\]|\[.*NOT_FOUND\]/);
  });
});
