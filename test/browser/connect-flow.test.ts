/**
 * The whole connect flow in a real headless Chromium: the one-time link, the simulator's approve/deny
 * page, the callback and the result page, as a tenant's user would see it. Needs Debian's chromium
 * (`.ci/run` installs it); without it this test fails and says how to install it.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueConnectLink } from '../../src/db/connect-links';
import type { DatabaseHandle } from '../../src/db/connection';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index';
import { freePort } from '../../src/stack/free-port';
import { connectApp, newTenant, type FakeRegistry } from '../api/connect-helpers';
import { testDatabase } from '../support/database';

const CHROMIUM = process.env.FAXFLOW_CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');

let database: DatabaseHandle;
let sim: SimulatorHandle;
let app: FastifyInstance;
let registry: FakeRegistry;
let publicUrl: string;
let browser: Browser;
const woken: Array<[string, boolean]> = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the browser test needs it. Install Debian's package ` +
        '(sudo apt-get update && sudo apt-get install -y chromium; .ci/run does this) or set ' +
        'FAXFLOW_CHROMIUM_PATH to a Chromium binary.',
    );
  await mkdir(ARTIFACTS, { recursive: true });
  database = testDatabase();
  sim = await startSimulator({
    timeScale: 0.05,
    interactiveAuthorize: true,
    accounts: [{ name: 'Gamma Medical', users: [{ jwt: 'gamma-jwt', name: 'Gus Gamma' }] }],
  });
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  ({ app, registry } = await connectApp({
    db: database.db,
    sim,
    publicUrl,
    onConnected: (id, reconnected) => {
      woken.push([id, reconnected]);
    },
  }));
  await app.listen({ host: '127.0.0.1', port });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await sim?.close();
  await database?.close();
});

describe('connect flow in a real browser', () => {
  it('link -> RingCentral approve page -> Approve as a user of another account -> "Connected" page', async () => {
    const tenant = await newTenant(database.db, 'Acme Clinic');
    const link = await issueConnectLink(database.db, tenant, publicUrl);
    const page = await browser.newPage();
    try {
      await page.goto(link);
      // the simulator's authorize page, reached through faxflow's redirect
      expect(page.url()).toContain(`${sim.url}/restapi/oauth/authorize?`);
      expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
      await expect(page.locator('h1').textContent()).resolves.toContain('Authorize');
      await page.selectOption('#user', { label: 'Gus Gamma (extension 101, Gamma Medical)' });
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/connect/ringcentral/callback'),
        page.click('#approve'),
      ]);
      expect(await page.locator('#title').textContent()).toBe('Connected');
      expect(await page.locator('body').innerText()).toContain(
        'Connected Gus Gamma (extension 101) to Acme Clinic.',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'connect-flow.png'), fullPage: true });
      expect(existsSync(path.join(ARTIFACTS, 'connect-flow.png'))).toBe(true);
      expect(registry.saved.at(-1)).toMatchObject({
        tenantId: tenant,
        accountId: '400100002',
        label: 'Gus Gamma',
      });
      expect(woken.at(-1)?.[1]).toBe(false);

      // Back and reload: the answer was used once, and the page says so
      await page.reload();
      expect(await page.locator('#title').textContent()).toBe('Already completed');
    } finally {
      await page.close();
    }
  });

  it('Deny on the approve page -> "Access denied" page, nothing connected', async () => {
    const tenant = await newTenant(database.db, 'Beta Dental');
    const before = registry.saved.length;
    const page = await browser.newPage();
    try {
      await page.goto(await issueConnectLink(database.db, tenant, publicUrl));
      await Promise.all([
        page.waitForURL((u) => u.pathname === '/connect/ringcentral/callback'),
        page.click('#deny'),
      ]);
      expect(await page.locator('#title').textContent()).toBe('Access denied');
      expect(await page.locator('body').innerText()).toContain(
        'no RingCentral user was connected to Beta Dental',
      );
      await page.screenshot({ path: path.join(ARTIFACTS, 'connect-flow-denied.png'), fullPage: true });
      expect(registry.saved.length).toBe(before);
    } finally {
      await page.close();
    }
  });

  it('opening a used link again shows "Link already used"', async () => {
    const tenant = await newTenant(database.db, 'Gamma Vet');
    const link = await issueConnectLink(database.db, tenant, publicUrl);
    const page = await browser.newPage();
    try {
      await page.goto(link);
      expect(page.url()).toContain('/restapi/oauth/authorize?');
      const again = await page.goto(link);
      expect(again?.status()).toBe(410);
      expect(await page.locator('#title').textContent()).toBe('Link already used');
    } finally {
      await page.close();
    }
  });
});
