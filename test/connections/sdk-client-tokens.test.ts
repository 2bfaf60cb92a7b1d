import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionUnavailableError } from '../../src/ringcentral/connections';
import { RingCentralAuthError } from '../../src/ringcentral/errors';
import { jwtLogin } from '../../src/ringcentral/oauth-client';
import { createSdkRingCentralClient, type AccessTokenSource } from '../../src/ringcentral/sdk-client';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { simStats } from './helpers';

/** The SDK client on a shared token set: it never logs in or refreshes by itself. */
let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ rateLimits: false });
});
afterAll(async () => {
  await sim?.close();
});

const LIST = 'GET /restapi/v1.0/account/~/extension/~/message-store';
const clientWith = (tokens: AccessTokenSource) =>
  createSdkRingCentralClient({ serverUrl: sim.url, clientId: sim.credentials.clientId, tokens });
const list = (client: ReturnType<typeof clientWith>) =>
  client.listOutboundFaxes({ dateFrom: new Date(Date.now() - 60_000) });

describe('createSdkRingCentralClient with an AccessTokenSource', () => {
  it("uses the source's token, and after a 401 the source's next one, once", async () => {
    const good = await jwtLogin({ serverUrl: sim.url, ...sim.credentials }, sim.credentials.jwt);
    const asked: number[] = [];
    const client = clientWith({
      current: async () => ({ accessToken: 'dead-token-value', version: 7 }),
      afterUnauthorized: async (version) => {
        asked.push(version);
        return { accessToken: good.accessToken, version: 8 };
      },
    });
    const before = await simStats(sim);
    await expect(list(client)).resolves.toEqual([]);
    expect(asked).toEqual([7]);
    const after = await simStats(sim);
    expect((after.callsByEndpoint[LIST] ?? 0) - (before.callsByEndpoint[LIST] ?? 0)).toBe(2);
    // No login of its own.
    expect(
      (after.callsByEndpoint['POST /restapi/oauth/token'] ?? 0) -
        (before.callsByEndpoint['POST /restapi/oauth/token'] ?? 0),
    ).toBe(0);
  });

  it('gives up with RingCentralAuthError when the renewed token is refused too (no loop)', async () => {
    let renewals = 0;
    const client = clientWith({
      current: async () => ({ accessToken: 'dead-token-one', version: 1 }),
      afterUnauthorized: async () => {
        renewals++;
        return { accessToken: 'dead-token-two', version: 2 };
      },
    });
    const before = await simStats(sim);
    const err = await list(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RingCentralAuthError);
    expect((err as Error).message).not.toContain('dead-token');
    expect(renewals).toBe(1);
    const after = await simStats(sim);
    expect((after.callsByEndpoint[LIST] ?? 0) - (before.callsByEndpoint[LIST] ?? 0)).toBe(2);
  });

  it('passes ConnectionUnavailableError through unchanged, before any request', async () => {
    const unavailable = new ConnectionUnavailableError(
      'c1',
      'needs-reconnect',
      'RingCentral refused the refresh token: OAU-211',
    );
    const client = clientWith({
      current: async () => {
        throw unavailable;
      },
      afterUnauthorized: async () => {
        throw unavailable;
      },
    });
    const before = await simStats(sim);
    await expect(list(client)).rejects.toBe(unavailable);
    await expect(client.sendFax({ to: [{ phoneNumber: '+12025550123' }], documents: [] })).rejects.toBe(
      unavailable,
    );
    const after = await simStats(sim);
    expect(after.callsByEndpoint).toEqual(before.callsByEndpoint);
  });
});
