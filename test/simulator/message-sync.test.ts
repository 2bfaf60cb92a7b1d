import { describe, expect, it } from 'vitest';
import { ApiErrorBody, MessageRecord } from './schemas';
import { api, sendFax, STORE_PATH, waitFor, useSim } from './helpers';

const SYNC = '/restapi/v1.0/account/~/extension/~/message-sync';

interface SyncAnswer {
  records: Array<{ id: number; messageStatus: string; availability: string }>;
  syncInfo: { syncType: string; syncToken: string; syncTime: string; olderRecordsExist: boolean };
}

describe('message-sync, message update and extension info', () => {
  const ctx = useSim({ rateLimits: false, timeScale: 0.001 });

  it('FSync returns the records and a ctx.token; ISync returns only what changed since', async () => {
    const a = api(ctx.sim, ctx.token);
    const first = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+15550000005')).json());
    await waitFor(
      async () => (await (await a.get(`${STORE_PATH}/${first.id}`)).json()) as { messageStatus: string },
      (r) => r.messageStatus === 'Sent',
    );
    const full = (await (await a.get(`${SYNC}?syncType=FSync&messageType=Fax`)).json()) as SyncAnswer;
    expect(full.records.map((r) => r.id)).toEqual([first.id]);
    expect(full.syncInfo.syncType).toBe('FSync');

    const nothing = (await (
      await a.get(`${SYNC}?syncType=ISync&syncToken=${full.syncInfo.syncToken}`)
    ).json()) as SyncAnswer;
    expect(nothing.records).toHaveLength(0);

    const second = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550230')).json());
    await a.del(`${STORE_PATH}/${first.id}`);
    const inc = (await (
      await a.get(`${SYNC}?syncType=ISync&syncToken=${nothing.syncInfo.syncToken}`)
    ).json()) as SyncAnswer;
    expect(inc.records.map((r) => r.id).sort()).toEqual([first.id, second.id].sort());
    expect(inc.records.find((r) => r.id === first.id)?.availability).toBe('Deleted');
  });

  it('ISync with a bad ctx.token is CMN-101', async () => {
    const r = await api(ctx.sim, ctx.token).get(`${SYNC}?syncType=ISync&syncToken=garbage`);
    expect(r.status).toBe(400);
    expect(ApiErrorBody.parse(await r.json()).errors[0]?.parameterName).toBe('syncToken');
  });

  it('PUT message-store/{id} updates readStatus', async () => {
    const sent = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550231')).json());
    const r = await api(ctx.sim, ctx.token).put(`${STORE_PATH}/${sent.id}`, { readStatus: 'Unread' });
    expect(r.status).toBe(200);
    expect(MessageRecord.parse(await r.json()).readStatus).toBe('Unread');
    const bad = await api(ctx.sim, ctx.token).put(`${STORE_PATH}/${sent.id}`, { readStatus: 'Maybe' });
    expect(bad.status).toBe(400);
  });

  it('GET extension/~ describes the logged-in extension', async () => {
    const r = await api(ctx.sim, ctx.token).get('/restapi/v1.0/account/~/extension/~');
    const ext = (await r.json()) as { id: number; type: string; status: string };
    expect(ext).toMatchObject({ type: 'User', status: 'Enabled' });
    expect(ext.id).toBeGreaterThan(0);
  });
});
