import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiErrorBody, MessageRecord, Notification, SubscriptionRecord } from './schemas';
import { startReceiver, type Receiver } from './receiver';
import { api, sendFax, sleep, STORE_PATH, waitFor, useSim } from './helpers';

const FILTER = '/restapi/v1.0/account/~/extension/~/message-store?type=Fax&direction=Outbound';
const SUB = '/restapi/v1.0/subscription';

describe('subscriptions and webhooks', () => {
  let rx: Receiver;
  const ctx = useSim({ statusModel: 'delivery-reports', rateLimits: false, timeScale: 0.001 });
  beforeEach(async () => {
    rx = await startReceiver();
  });
  afterEach(async () => {
    await rx.close();
  });

  const subscribe = (extra: Record<string, unknown> = {}, address = rx.url): Promise<Response> =>
    api(ctx.sim, ctx.token).postJson(SUB, {
      eventFilters: [FILTER],
      deliveryMode: { transportType: 'WebHook', address, verificationToken: 'secret-token' },
      expiresIn: 604800,
      ...extra,
    });

  it('creation performs the Validation-Token handshake and returns the documented record', async () => {
    const r = await subscribe();
    expect(r.status).toBe(200);
    const sub = SubscriptionRecord.parse(await r.json());
    expect(sub.status).toBe('Active');
    // echoed with the caller's numeric account and extension ids instead of ~
    expect(sub.eventFilters).toEqual([
      '/restapi/v1.0/account/400100001/extension/400200001/message-store?type=Fax&direction=Outbound',
    ]);
    expect(sub.expiresIn).toBeGreaterThan(604000);
    const [hs] = rx.received;
    expect(hs?.headers['validation-token']).toBeTruthy();
    expect(hs?.body).toBe('');
  });

  it('SUB-525 when the receiver does not echo Validation-Token', async () => {
    rx.behaviour.echo = false;
    const r = await subscribe();
    expect(r.status).toBe(400);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('SUB-525');
  });

  it('SUB-525 when the receiver answers too slowly (3 s scaled, 500 ms floor)', async () => {
    // the receiver would answer after a minute: creation can only fail (not hang) if the simulator
    // gives up on its own, well inside the test's timeout
    rx.behaviour.delayMs = 60_000;
    const r = await subscribe();
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('SUB-525');
  });

  it('SUB-525 when the receiver answers non-200 or more than 1 KB, or is unreachable', async () => {
    rx.behaviour.status = 500;
    expect(ApiErrorBody.parse(await (await subscribe()).json()).errorCode).toBe('SUB-525');
    rx.behaviour.status = 200;
    rx.behaviour.validationBody = 'x'.repeat(2048);
    expect(ApiErrorBody.parse(await (await subscribe()).json()).errorCode).toBe('SUB-525');
    expect(
      ApiErrorBody.parse(await (await subscribe({}, 'http://127.0.0.1:1/nothing')).json()).errorCode,
    ).toBe('SUB-525');
  });

  it('invalid subscription requests are CMN-101, an invalid event filter SUB-508', async () => {
    const a = api(ctx.sim, ctx.token);
    const bad = async (body: unknown, param: string): Promise<void> => {
      const r = await a.postJson(SUB, body);
      expect(r.status).toBe(400);
      expect(ApiErrorBody.parse(await r.json()).errors[0]?.parameterName).toBe(param);
    };
    await bad({ deliveryMode: { transportType: 'WebHook', address: rx.url } }, 'eventFilters');
    const r = await a.postJson(SUB, {
      eventFilters: ['/nonsense'],
      deliveryMode: { transportType: 'WebHook', address: rx.url },
    });
    expect(r.status).toBe(400);
    expect(ApiErrorBody.parse(await r.json())).toMatchObject({
      errorCode: 'SUB-508',
      message: 'Invalid event filters: [/nonsense]',
    });
    await bad(
      { eventFilters: [FILTER], deliveryMode: { transportType: 'WebHook', address: 'ftp://x' } },
      'deliveryMode.address',
    );
    await bad(
      { eventFilters: [FILTER], deliveryMode: { transportType: 'WebHook', address: rx.url }, expiresIn: -1 },
      'expiresIn',
    );
  });

  it('a new fax is notified with newCount and newMessageIds, status changes with updatedCount only (zero counts omitted)', async () => {
    SubscriptionRecord.parse(await (await subscribe()).json());
    const sent = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+16505550210')).json());
    await waitFor(
      async () => rx.notifications().length,
      (n) => n >= 4,
      5000,
    ); // new, rendered, Sent, Delivered
    const notes = rx.notifications().map((n) => Notification.parse(n.json));
    expect(notes[0]?.body.changes[0]).toEqual({
      type: 'Fax',
      newCount: 1,
      newMessageIds: [sent.id],
    });
    for (const n of notes.slice(1)) expect(n.body.changes[0]).toEqual({ type: 'Fax', updatedCount: 1 });
    // the body never carries the status
    expect(JSON.stringify(notes)).not.toMatch(/Delivered|messageStatus/);
    for (const n of rx.notifications()) expect(n.headers['verification-token']).toBe('secret-token');
  });

  it('only matching filters are notified', async () => {
    await api(ctx.sim, ctx.token).postJson(SUB, {
      eventFilters: ['/restapi/v1.0/account/~/extension/~/message-store?type=SMS'],
      deliveryMode: { transportType: 'WebHook', address: rx.url },
    });
    await sendFax(ctx.sim, ctx.token, '+16505550211');
    await sleep(300);
    expect(rx.notifications()).toHaveLength(0);
  });

  it('get, list, renew and delete', async () => {
    const sub = SubscriptionRecord.parse(await (await subscribe({ expiresIn: 1000 })).json());
    const a = api(ctx.sim, ctx.token);
    expect(SubscriptionRecord.parse(await (await a.get(`${SUB}/${sub.id}`)).json()).id).toBe(sub.id);
    const list = (await (await a.get(SUB)).json()) as { records: unknown[] };
    expect(list.records).toHaveLength(1);
    await sleep(200); // 200 simulated seconds
    const renewed = SubscriptionRecord.parse(await (await a.post(`${SUB}/${sub.id}/renew`)).json());
    expect(Date.parse(renewed.expirationTime)).toBeGreaterThan(Date.parse(sub.expirationTime));
    expect((await a.del(`${SUB}/${sub.id}`)).status).toBe(204);
    expect((await a.get(`${SUB}/${sub.id}`)).status).toBe(404);
    await sendFax(ctx.sim, ctx.token, '+16505550212');
    await sleep(200);
    expect(rx.notifications()).toHaveLength(0);
  });

  it('PUT updates the filters and re-validates a new address', async () => {
    const sub = SubscriptionRecord.parse(await (await subscribe()).json());
    const other = await startReceiver();
    try {
      const r = await api(ctx.sim, ctx.token).put(`${SUB}/${sub.id}`, {
        deliveryMode: { transportType: 'WebHook', address: other.url },
      });
      expect(SubscriptionRecord.parse(await r.json()).deliveryMode.address).toBe(other.url);
      expect(other.received[0]?.headers['validation-token']).toBeTruthy();
      await sendFax(ctx.sim, ctx.token, '+16505550213');
      await waitFor(
        async () => other.notifications().length,
        (n) => n >= 1,
      );
      expect(rx.notifications()).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('a subscription expires after expiresIn (scaled): 404 and no more notifications', async () => {
    const sub = SubscriptionRecord.parse(await (await subscribe({ expiresIn: 200 })).json()); // 200 ms
    await sleep(300);
    expect((await api(ctx.sim, ctx.token).get(`${SUB}/${sub.id}`)).status).toBe(404);
    await sendFax(ctx.sim, ctx.token, '+16505550214');
    await sleep(200);
    expect(rx.notifications()).toHaveLength(0);
  });

  it('a receiver that keeps failing gets the subscription Blacklisted, then nothing more is delivered', async () => {
    const sub = SubscriptionRecord.parse(await (await subscribe()).json());
    rx.behaviour.status = 500;
    for (let i = 0; i < 3; i++) await sendFax(ctx.sim, ctx.token, '+16505550215');
    const got = await waitFor(
      async () =>
        SubscriptionRecord.parse(await (await api(ctx.sim, ctx.token).get(`${SUB}/${sub.id}`)).json()),
      (s) => s.status === 'Blacklisted',
      5000,
    );
    expect(got.status).toBe('Blacklisted');
    const count = rx.notifications().length;
    expect(count).toBe(5); // webhookBlacklistAfter default
    rx.behaviour.status = 200;
    await sendFax(ctx.sim, ctx.token, '+16505550216');
    await sleep(300);
    expect(rx.notifications()).toHaveLength(count);
  });

  it('deleting a fax is notified as an update', async () => {
    await subscribe();
    const sent = MessageRecord.parse(await (await sendFax(ctx.sim, ctx.token, '+15550000005')).json());
    await waitFor(
      async () => rx.notifications().length,
      (n) => n >= 3,
    ); // new, rendered, Sent
    const before = rx.notifications().length;
    await api(ctx.sim, ctx.token).del(`${STORE_PATH}/${sent.id}`);
    await waitFor(
      async () => rx.notifications().length,
      (n) => n === before + 1,
    );
  });
});
