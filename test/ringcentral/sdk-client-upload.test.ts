import { afterEach, describe, expect, it } from 'vitest';
import { RingCentralNetworkError } from '../../src/ringcentral/errors';
import { createSdkRingCentralClient } from '../../src/ringcentral/sdk-client';
import type { RingCentralClient, SendFaxRequest } from '../../src/ringcentral/types';
import { FakeRingCentralServer, waitFor } from './fake-rc-server';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(opts: { requestTimeoutMs?: number; heartbeatIntervalMs?: number } = {}) {
  const server = await new FakeRingCentralServer().start();
  const client: RingCentralClient = createSdkRingCentralClient({
    serverUrl: server.url,
    ...server.credentials,
    ...opts,
  });
  cleanups.push(
    () => server.stop(),
    () => client.close(),
  );
  return { server, client };
}

// Large enough that the upload cannot sit whole in the socket buffers while the server does not read.
const BIG = Buffer.alloc(24 * 1024 * 1024, 0x41);
const marker = 'END-OF-DOCUMENT-MARKER';

function request(content: Buffer): SendFaxRequest {
  return {
    to: [{ phoneNumber: '+12025550123' }],
    documents: [{ filename: 'doc.txt', contentType: 'text/plain', content }],
    coverIndex: 0,
  };
}

describe('sendFax upload', () => {
  it('aborts a timed-out upload on the socket, so RingCentral never stores the fax', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 1_000 });
    // Logged in beforehand, so that the timeout falls on the upload itself.
    await client.listOutboundFaxes({ dateFrom: new Date(0) });
    server.holdUploads = true;
    await expect(client.sendFax(request(BIG))).rejects.toMatchObject({
      constructor: RingCentralNetworkError,
      ambiguous: true,
    });
    // The server reads on only now: an upload still running would complete and be stored.
    server.releaseUploads();
    await waitFor(
      () => server.uploads.length === 1 && (server.uploads[0]!.closedEarly || server.uploads[0]!.complete),
    );
    expect(server.uploads[0]!.closedEarly).toBe(true);
    expect(server.faxes).toHaveLength(0);
  });

  it('aborts on an external signal and heartbeats while the upload is in flight', async () => {
    const { server, client } = await setup({ heartbeatIntervalMs: 20 });
    server.holdUploads = true;
    const controller = new AbortController();
    let beats = 0;
    const sending = client.sendFax(request(BIG), { signal: controller.signal, heartbeat: () => beats++ });
    const outcome = sending.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await waitFor(() => beats >= 3 && server.uploads.length === 1);
    controller.abort();
    const err = await outcome;
    expect(err).toBeInstanceOf(RingCentralNetworkError);
    expect((err as RingCentralNetworkError).message).toMatch(/cancel/i);
    server.releaseUploads();
    await waitFor(() => server.uploads[0]!.closedEarly || server.uploads[0]!.complete);
    expect(server.uploads[0]!.closedEarly).toBe(true);
    expect(server.faxes).toHaveLength(0);
  });

  it('a timeout while still logging in is not ambiguous: the fax request never left', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 300 });
    server.hangTokenEndpoint = true;
    await expect(client.sendFax(request(Buffer.from('x')))).rejects.toMatchObject({
      constructor: RingCentralNetworkError,
      ambiguous: false,
    });
    expect(server.uploads).toHaveLength(0);
  });

  it('refuses at once, sending nothing, when the signal is already aborted', async () => {
    const { server, client } = await setup();
    const controller = new AbortController();
    controller.abort();
    await expect(
      client.sendFax(request(Buffer.from('x')), { signal: controller.signal }),
    ).rejects.toMatchObject({
      constructor: RingCentralNetworkError,
      ambiguous: false,
    });
    expect(server.uploads).toHaveLength(0);
  });

  it('re-sends a fresh multipart body after a 401, not the consumed stream', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 5_000 });
    const content = Buffer.concat([Buffer.alloc(256 * 1024, 0x42), Buffer.from(marker)]);
    server.failNextUpload({
      status: 401,
      body: { errorCode: 'OAU-213', message: 'Token not found', errors: [{ errorCode: 'OAU-213' }] },
    });
    const sent = await client.sendFax(request(content));
    expect(server.uploads.map((u) => u.complete)).toEqual([true, true]);
    expect(server.faxes).toHaveLength(1);
    expect(sent.id).toBe(server.faxes[0]!.id);
    expect(server.faxes[0]!.body.includes(content)).toBe(true);
    expect(server.grants).toEqual(['jwt', 'refresh']);
  });
});
