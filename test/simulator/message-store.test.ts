import { describe, expect, it } from 'vitest';
import { ApiErrorBody, MessageList, MessageRecord } from './schemas';
import { api, sendFax, STORE_PATH, useSim } from './helpers';

describe('message store', () => {
  const send = async (to = '+16505550140'): Promise<number> =>
    MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, to)).json()).id;

  const ctx = useSim({ rateLimits: false });

  it('GET returns the record', async () => {
    const id = await send();
    const r = await api(ctx.sim, ctx.token).get(`${STORE_PATH}/${id}`);
    expect(r.status).toBe(200);
    expect(MessageRecord.parse(await r.json()).id).toBe(id);
  });

  it('GET of an unknown id is 404 CMN-102', async () => {
    const r = await api(ctx.sim, ctx.token).get(`${STORE_PATH}/999`);
    expect(r.status).toBe(404);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-102');
  });

  it('first DELETE marks Deleted (204), second purges (404 afterwards)', async () => {
    const id = await send();
    const a = api(ctx.sim, ctx.token);
    expect((await a.del(`${STORE_PATH}/${id}`)).status).toBe(204);
    const rec = MessageRecord.parse(await (await a.get(`${STORE_PATH}/${id}`)).json());
    expect(rec.availability).toBe('Deleted');
    expect((await a.del(`${STORE_PATH}/${id}`)).status).toBe(204);
    const gone = await a.get(`${STORE_PATH}/${id}`);
    expect(gone.status).toBe(404);
    expect(ApiErrorBody.parse(await gone.json()).errorCode).toBe('CMN-102');
  });

  it('DELETE ?purge=true purges at once', async () => {
    const id = await send();
    const a = api(ctx.sim, ctx.token);
    expect((await a.del(`${STORE_PATH}/${id}?purge=true`)).status).toBe(204);
    expect((await a.get(`${STORE_PATH}/${id}`)).status).toBe(404);
    expect((await a.del(`${STORE_PATH}/${id}`)).status).toBe(404);
  });

  it('lists newest first with paging and navigation', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await send(`+1650555015${i}`));
    const r = await api(ctx.sim, ctx.token).get(
      `${STORE_PATH}?messageType=Fax&direction=Outbound&perPage=2&page=2`,
    );
    const list = MessageList.parse(await r.json());
    expect(list.records.map((x) => x.id)).toEqual([ids[2], ids[1]]);
    expect(list.paging).toMatchObject({
      page: 2,
      perPage: 2,
      totalPages: 3,
      totalElements: 5,
      pageStart: 2,
      pageEnd: 3,
    });
    expect(list.navigation.nextPage?.uri).toContain('page=3');
    expect(list.navigation.previousPage?.uri).toContain('page=1');
    const next = MessageList.parse(
      await (
        await fetch(list.navigation.nextPage?.uri ?? '', {
          headers: { Authorization: `Bearer ${ctx.token}` },
        })
      ).json(),
    );
    expect(next.records.map((x) => x.id)).toEqual([ids[0]]);
  });

  it('filters by dateFrom/dateTo and defaults dateFrom to 24 h ago', async () => {
    const id = await send();
    const a = api(ctx.sim, ctx.token);
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = MessageList.parse(await (await a.get(`${STORE_PATH}?dateFrom=${future}`)).json());
    expect(none.records).toHaveLength(0);
    expect(none.paging.totalElements).toBe(0);
    const past = new Date(Date.now() - 60_000).toISOString();
    const before = MessageList.parse(await (await a.get(`${STORE_PATH}?dateTo=${past}`)).json());
    expect(before.records).toHaveLength(0);
    const dflt = MessageList.parse(await (await a.get(STORE_PATH)).json());
    expect(dflt.records.map((x) => x.id)).toEqual([id]);
  });

  it('filters by messageType and direction', async () => {
    await send();
    const a = api(ctx.sim, ctx.token);
    expect(
      MessageList.parse(await (await a.get(`${STORE_PATH}?messageType=SMS`)).json()).records,
    ).toHaveLength(0);
    expect(
      MessageList.parse(await (await a.get(`${STORE_PATH}?direction=Inbound`)).json()).records,
    ).toHaveLength(0);
    expect(
      MessageList.parse(await (await a.get(`${STORE_PATH}?messageType=Fax&direction=Outbound`)).json())
        .records,
    ).toHaveLength(1);
  });

  it('clamps perPage above 1000, refuses perPage 0 and malformed dates with CMN-101', async () => {
    const a = api(ctx.sim, ctx.token);
    const r1 = await a.get(`${STORE_PATH}?perPage=5000`);
    expect(r1.status).toBe(200);
    expect(((await r1.json()) as { paging: { perPage: number } }).paging.perPage).toBe(1000);
    const r0 = await a.get(`${STORE_PATH}?perPage=0`);
    expect(ApiErrorBody.parse(await r0.json()).errorCode).toBe('CMN-101');
    const r2 = await a.get(`${STORE_PATH}?dateFrom=yesterday`);
    expect(ApiErrorBody.parse(await r2.json()).errors[0]?.parameterName).toBe('dateFrom');
  });

  it('does not list purged faxes and lists deleted ones', async () => {
    const keep = await send();
    const del = await send();
    const purge = await send();
    const a = api(ctx.sim, ctx.token);
    await a.del(`${STORE_PATH}/${del}`);
    await a.del(`${STORE_PATH}/${purge}?purge=true`);
    const list = MessageList.parse(await (await a.get(STORE_PATH)).json());
    expect(list.records.map((x) => x.id)).toEqual([del, keep]);
    const alive = MessageList.parse(await (await a.get(`${STORE_PATH}?availability=Alive`)).json());
    expect(alive.records.map((x) => x.id)).toEqual([keep]);
  });

  it('serves an attachment content by its uri', async () => {
    const sent = MessageRecord.parse(
      await (
        await sendFax(ctx.sim, ctx.token, '+16505550160', [
          { filename: 'n.txt', body: 'note', contentType: 'text/plain' },
        ])
      ).json(),
    );
    const r = await fetch(sent.attachments[0]?.uri ?? '', {
      headers: { Authorization: `Bearer ${ctx.token}` },
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('note');
  });
});
