import { randomUUID } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { freePort } from '../../src/stack/free-port';
import { sampleValue } from '../support/prometheus';
import { startCli, stopAll } from './cli-process';

/** `faxflow worker` with FAXFLOW_METRICS_PORT: one scrape target with faxflow's and Temporal's metrics. */
let simulator: SimulatorHandle;
beforeAll(async () => {
  simulator = await startSimulator({ timeScale: 0.002 });
});
afterEach(stopAll);
afterAll(async () => {
  await simulator?.close();
});

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

it('serves faxflow metrics and the Temporal SDK metrics on FAXFLOW_METRICS_PORT', async () => {
  const port = await freePort();
  const taskQueue = `metrics-worker-${randomUUID()}`;
  const worker = startCli(['worker'], {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: inject('databaseUrl'),
    RINGCENTRAL_SERVER_URL: simulator.url,
    RINGCENTRAL_CLIENT_ID: simulator.credentials.clientId,
    RINGCENTRAL_CLIENT_SECRET: simulator.credentials.clientSecret,
    RINGCENTRAL_JWT: simulator.credentials.jwt,
    FAXFLOW_METRICS_PORT: String(port),
    LOG_LEVEL: 'warn',
  });
  const [, url] = await worker.waitFor(/faxflow worker metrics at (\S+)/, 90_000);
  expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
  await worker.waitFor(new RegExp(`faxflow worker polling ${taskQueue}`), 90_000);

  // Core publishes its pollers' metrics once they have polled: wait for them, not for a time.
  await expect
    .poll(async () => /^temporal_\w+/m.test(await scrape(url!)), { timeout: 30_000, interval: 250 })
    .toBe(true);
  const text = await scrape(url!);
  expect(text).toContain('# TYPE faxflow_faxes_final_total counter');
  expect(text).toContain('# TYPE faxflow_ringcentral_429_total counter');
  expect(sampleValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  expect(text).toMatch(new RegExp(`^temporal_\\w+\\{[^}]*task_queue="${taskQueue}"`, 'm'));

  const other = await fetch(url!.replace(/\/metrics$/, '/other'));
  expect(other.status).toBe(404);
  expect(await worker.stop('SIGINT')).toBe(0);
}, 150_000);

it('refuses a metrics port that is taken, naming the variable', async () => {
  const taken = await new Promise<net.Server>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const port = (taken.address() as AddressInfo).port;
    const worker = startCli(['worker'], {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `metrics-taken-${randomUUID()}`,
      DATABASE_URL: inject('databaseUrl'),
      RINGCENTRAL_SERVER_URL: simulator.url,
      RINGCENTRAL_CLIENT_ID: simulator.credentials.clientId,
      RINGCENTRAL_CLIENT_SECRET: simulator.credentials.clientSecret,
      RINGCENTRAL_JWT: simulator.credentials.jwt,
      FAXFLOW_METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    expect(await worker.exited).not.toBe(0);
    expect(worker.output()).toContain(
      `Port ${port} on 127.0.0.1 is taken; set FAXFLOW_METRICS_PORT to a free port.`,
    );
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
}, 150_000);
