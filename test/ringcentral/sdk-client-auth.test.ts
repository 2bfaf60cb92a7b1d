import { afterEach, describe, expect, it } from 'vitest';
import { RingCentralAuthError } from '../../src/ringcentral/errors';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import type { RingCentralClient } from '../../src/ringcentral/types';
import { FakeRingCentralServer, type ScriptedAnswer } from './fake-rc-server';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const server = await new FakeRingCentralServer().start();
  const logLines: string[] = [];
  const client: RingCentralClient = createSdkRingCentralClient({
    serverUrl: server.url,
    ...server.credentials,
    requestTimeoutMs: 5_000,
    logger: { warn: (obj, msg) => logLines.push(JSON.stringify({ ...obj, msg })) },
  });
  cleanups.push(
    () => server.stop(),
    () => client.close(),
  );
  // A working session first: the faults below hit its refresh, as in a long-running worker.
  await client.listOutboundFaxes({ dateFrom: new Date(0) });
  return { server, client, logLines };
}

const list = (client: RingCentralClient) => client.listOutboundFaxes({ dateFrom: new Date(0) });

const overloaded: ScriptedAnswer = {
  status: 503,
  headers: { 'retry-after': '7' },
  body: { errorCode: 'CMN-211', message: 'Service overloaded' },
};

describe('RingCentral auth failures heal inside one process', () => {
  it('after one 503 from the token endpoint on refresh, the next call logs in again and works', async () => {
    const { server, client } = await setup();
    server.expireAccessTokens();
    server.failNextToken('refresh', overloaded);
    const err = await list(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RingCentralAuthError);
    expect(err).toMatchObject({ status: 503, errorCode: 'CMN-211', retryAfterSeconds: 7 });
    // The SDK wiped its tokens on the failed refresh; before the fix every later call failed
    // with "Refresh token is missing" until the process restarted.
    await expect(list(client)).resolves.toEqual([]);
    await expect(list(client)).resolves.toEqual([]);
    expect(server.grants).toEqual(['jwt', 'refresh', 'jwt']);
  });

  it('concurrent calls after a failed refresh share one new login', async () => {
    const { server, client } = await setup();
    server.expireAccessTokens();
    server.failNextToken('refresh', overloaded);
    await expect(list(client)).rejects.toBeInstanceOf(RingCentralAuthError);
    const results = await Promise.all(Array.from({ length: 5 }, () => list(client)));
    expect(results).toEqual([[], [], [], [], []]);
    // Each JWT login opens a session, and RingCentral keeps about 5 per user.
    expect(server.grants).toEqual(['jwt', 'refresh', 'jwt']);
  });

  it('when the refresh is refused (invalid_grant), logs in again with the JWT within the same call', async () => {
    const { server, client } = await setup();
    server.expireAccessTokens();
    server.failNextToken('refresh', {
      status: 400,
      body: {
        error: 'invalid_grant',
        error_description: 'Token is expired',
        errors: [{ errorCode: 'OAU-211', message: 'Token is expired' }],
      },
    });
    await expect(list(client)).resolves.toEqual([]);
    expect(server.grants).toEqual(['jwt', 'refresh', 'jwt']);
  });

  it('a refused or failed JWT login is an auth error, and the next call tries the login again', async () => {
    const server = await new FakeRingCentralServer().start();
    const client = createSdkRingCentralClient({ serverUrl: server.url, ...server.credentials });
    cleanups.push(
      () => server.stop(),
      () => client.close(),
    );
    server.failNextToken('jwt', overloaded);
    await expect(list(client)).rejects.toBeInstanceOf(RingCentralAuthError);
    await expect(list(client)).resolves.toEqual([]);
    expect(server.grants).toEqual(['jwt', 'jwt']);
  });

  it('a 401 that outlives a fresh token is an auth error, and the next call starts a new login', async () => {
    const { server, client } = await setup();
    const unauthorized: ScriptedAnswer = {
      status: 401,
      body: { errorCode: 'OAU-213', message: 'Token not found' },
    };
    server.failNextApiCall(unauthorized);
    server.failNextApiCall(unauthorized);
    const err = await list(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RingCentralAuthError);
    expect(err).toMatchObject({ status: 401, errorCode: 'OAU-213' });
    await expect(list(client)).resolves.toEqual([]);
    expect(server.grants).toEqual(['jwt', 'refresh', 'jwt']);
  });

  it('keeps two clients in one process apart: one failed refresh does not wipe the other', async () => {
    const a = await setup();
    const b = await setup();
    a.server.expireAccessTokens();
    a.server.failNextToken('refresh', overloaded);
    await expect(list(a.client)).rejects.toBeInstanceOf(RingCentralAuthError);
    await expect(list(b.client)).resolves.toEqual([]);
    expect(b.server.grants).toEqual(['jwt']);
  });

  it('never puts a token, the JWT or the client secret in an auth error or a log line', async () => {
    const { server, client, logLines } = await setup();
    // RingCentral's error texts are free text: here they echo every secret they were sent.
    const echo =
      (status: number) =>
      (form: URLSearchParams): ScriptedAnswer => ({
        status,
        body: {
          error: 'invalid_grant',
          error_description: `refused ${form.get('refresh_token') ?? ''} ${form.get('assertion') ?? ''}`,
          errors: [
            { errorCode: 'OAU-211', message: `bad ${form.get('refresh_token') ?? form.get('assertion')}` },
          ],
        },
      });
    const errors: unknown[] = [];
    server.expireAccessTokens();
    server.failNextToken('refresh', echo(503));
    errors.push(await list(client).catch((e: unknown) => e));
    server.failNextToken('jwt', echo(400));
    errors.push(await list(client).catch((e: unknown) => e));
    await list(client);
    server.expireAccessTokens();
    server.failNextToken('refresh', echo(400));
    server.failNextToken('jwt', echo(400));
    errors.push(await list(client).catch((e: unknown) => e));

    expect(errors.every((e) => e instanceof RingCentralAuthError)).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    const secrets = [server.credentials.jwt, server.credentials.clientSecret, ...server.issuedTokens];
    const errorTexts = errors.map(
      (e) => `${(e as Error).message} ${JSON.stringify(e)} ${(e as Error).stack ?? ''}`,
    );
    // The echoed text did reach the errors: only the secrets in it are gone.
    for (const text of errorTexts) expect(text).toContain('refused');
    for (const text of [...errorTexts, ...logLines]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
