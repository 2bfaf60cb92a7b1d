import { afterEach, describe, expect, it } from 'vitest';
import { RingCentralApiError } from '../../src/ringcentral/errors';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import { FakeRingCentralServer } from './fake-rc-server';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const server = await new FakeRingCentralServer().start();
  const client = createSdkRingCentralClient({ serverUrl: server.url, ...server.credentials });
  cleanups.push(
    () => server.stop(),
    () => client.close(),
  );
  return { server, client };
}

describe('RingCentral error answers', () => {
  it("reads a 503 CMN-211's Retry-After, and a 429's (30 s when absent), with the rate-limit group", async () => {
    const { server, client } = await setup();
    server.failNextApiCall({
      status: 503,
      headers: { 'retry-after': '20' },
      body: { errorCode: 'CMN-211', message: 'Service overloaded' },
    });
    await expect(client.getMessage('1')).rejects.toMatchObject({
      constructor: RingCentralApiError,
      status: 503,
      errorCode: 'CMN-211',
      retryAfterSeconds: 20,
    });
    server.failNextApiCall({
      status: 429,
      headers: { 'x-rate-limit-group': 'Light' },
      body: { errorCode: 'CMN-301', message: 'Request rate exceeded' },
    });
    await expect(client.getMessage('1')).rejects.toMatchObject({
      status: 429,
      retryAfterSeconds: 30,
      rateLimitGroup: 'Light',
    });
    // Neither is an auth problem: no new login or refresh. (A retry would have met a 404.)
    expect(server.grants).toEqual(['jwt']);
  });
});
