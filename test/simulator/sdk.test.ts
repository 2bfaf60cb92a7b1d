import { SDK } from '@ringcentral/sdk';
import FormData from 'form-data';
import { describe, expect, it } from 'vitest';
import { MessageList, MessageRecord } from './schemas';
import { pdf, waitFor, useSim } from './helpers';

describe('the official @ringcentral/sdk against the simulator', () => {
  const ctx = useSim({ statusModel: 'delivery-reports', timeScale: 0.002 }, { login: false });

  it('logs in with a JWT, sends a fax like the official sample and polls the message store', async () => {
    const sdk = new SDK({
      server: ctx.sim.url,
      clientId: ctx.sim.credentials.clientId,
      clientSecret: ctx.sim.credentials.clientSecret,
    });
    const platform = sdk.platform();
    await platform.login({ jwt: ctx.sim.credentials.jwt });

    const body = {
      to: [{ phoneNumber: '+16505550170', name: 'Test' }],
      faxResolution: 'High',
      coverPageText: 'From the SDK',
    };
    const formData = new FormData();
    formData.append('json', Buffer.from(JSON.stringify(body)), {
      filename: 'request.json',
      contentType: 'application/json',
    });
    formData.append('attachment', Buffer.from(await pdf(2)), {
      filename: 'test.pdf',
      contentType: 'application/pdf',
    });
    const resp = await platform.post('/restapi/v1.0/account/~/extension/~/fax', formData);
    const sent = MessageRecord.parse(await resp.json());
    expect(sent.messageStatus).toBe('Queued');
    expect(sent.to[0]).toMatchObject({ phoneNumber: '+16505550170', name: 'Test' });

    const done = await waitFor(
      async () =>
        MessageRecord.parse(
          await (await platform.get(`/restapi/v1.0/account/~/extension/~/message-store/${sent.id}`)).json(),
        ),
      (r) => r.messageStatus === 'Delivered',
      10_000,
      50,
    );
    // the official sample omits coverIndex, so the account's default cover page adds one page
    expect(done.faxPageCount).toBe(3);
    expect(done.coverIndex).toBe(1);

    const list = MessageList.parse(
      await (
        await platform.get('/restapi/v1.0/account/~/extension/~/message-store', {
          messageType: 'Fax',
          direction: 'Outbound',
        })
      ).json(),
    );
    expect(list.records.map((r) => r.id)).toContain(sent.id);

    const faxes = (await (await fetch(`${ctx.sim.url}/_sim/faxes`)).json()) as {
      faxes: Array<{ attachments: Array<{ filename: string }> }>;
    };
    expect(faxes.faxes[0]?.attachments.map((a) => a.filename)).toEqual(['test.pdf']);
    await platform.logout();
  });

  it('surfaces RingCentral error bodies through the SDK error response', async () => {
    const sdk = new SDK({
      server: ctx.sim.url,
      clientId: ctx.sim.credentials.clientId,
      clientSecret: ctx.sim.credentials.clientSecret,
    });
    const platform = sdk.platform();
    await platform.login({ jwt: ctx.sim.credentials.jwt });
    const formData = new FormData();
    formData.append('json', Buffer.from(JSON.stringify({ to: [{ phoneNumber: 'not a number' }] })), {
      filename: 'request.json',
      contentType: 'application/json',
    });
    formData.append('attachment', Buffer.from('x'), { filename: 'a.txt', contentType: 'text/plain' });
    const err = (await platform
      .post('/restapi/v1.0/account/~/extension/~/fax', formData)
      .catch((e: unknown) => e)) as {
      response?: Response;
    };
    expect(err.response?.status).toBe(400);
    const json = (await err.response?.json()) as { errorCode: string };
    expect(json.errorCode).toBe('CMN-101');
  });

  it('recovers by itself when the access token expires early (scaled TTL): 401, refresh, retry', async () => {
    await ctx.restart({ timeScale: 0.0002 }, false); // 3600 s access token = 0.72 s
    const sdk = new SDK({
      server: ctx.sim.url,
      clientId: ctx.sim.credentials.clientId,
      clientSecret: ctx.sim.credentials.clientSecret,
    });
    const platform = sdk.platform();
    await platform.login({ jwt: ctx.sim.credentials.jwt });
    const before = (await platform.auth().data()).access_token;
    await new Promise((r) => setTimeout(r, 900));
    const r = await platform.get('/restapi/v1.0/account/~/extension/~/message-store');
    expect(r.status).toBe(200);
    expect((await platform.auth().data()).access_token).not.toBe(before);
  });

  it('PKCE login: loginUrl -> authorize redirect -> login({code})', async () => {
    const redirectUri = 'http://localhost:5556/cb';
    const sdk = new SDK({ server: ctx.sim.url, clientId: ctx.sim.credentials.clientId, redirectUri });
    const platform = sdk.platform();
    const url = platform.loginUrl({ usePKCE: true, state: 'st-1' });
    const r = await fetch(url, { redirect: 'manual' });
    const loc = new URL(r.headers.get('location') ?? '');
    expect(loc.searchParams.get('state')).toBe('st-1');
    await platform.login({ code: loc.searchParams.get('code') ?? '', redirect_uri: redirectUri });
    expect((await platform.get('/restapi/v1.0/account/~/extension/~')).status).toBe(200);
  });
});
