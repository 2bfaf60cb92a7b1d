import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiErrorBody } from './schemas';
import { startReceiver, type Receiver } from './receiver';
import { api, sendFax, simFaxes, sleep, STORE_PATH, waitFor, useSim } from './helpers';

const FILTER = '/restapi/v1.0/account/~/extension/~/message-store?type=Fax&direction=Outbound';

describe('fault injection', () => {
  const ctx = useSim({ statusModel: 'delivery-reports', rateLimits: false, timeScale: 0.001 });

  const setFaults = async (config: Record<string, unknown>): Promise<Response> =>
    fetch(`${ctx.sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(config),
    });

  it('error503Rate 1: every call is 503 CMN-211 and nothing is processed', async () => {
    await setFaults({ error503Rate: 1 });
    const r = await sendFax(ctx.sim, ctx.token, '+16505550220');
    expect(r.status).toBe(503);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-211');
    expect(await simFaxes(ctx.sim)).toHaveLength(0);
  });

  it('error429Rate 1: every call is 429 CMN-301 with Retry-After', async () => {
    await setFaults({ error429Rate: 1 });
    const r = await api(ctx.sim, ctx.token).get(STORE_PATH);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-301');
  });

  it('faults can be limited to some rate-limit groups', async () => {
    await setFaults({ error503Rate: 1, groups: ['Heavy'] });
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(200);
    expect((await sendFax(ctx.sim, ctx.token, '+16505550221')).status).toBe(503);
  });

  it('an ambiguous send is accepted and transmits, but the connection dies without an answer', async () => {
    await setFaults({ ambiguousSendRate: 1 });
    await expect(sendFax(ctx.sim, ctx.token, '+16505550222')).rejects.toThrow();
    const [f] = await waitFor(
      () => simFaxes(ctx.sim),
      (x) => x[0]?.messageStatus === 'Delivered',
    );
    expect(f?.ambiguous).toBe(true);
    // and it is visible in the message store, which is how a client reconciles
    const list = (await (
      await api(ctx.sim, ctx.token).get(`${STORE_PATH}?direction=Outbound&messageType=Fax`)
    ).json()) as { records: Array<{ id: number }> };
    expect(list.records.map((x) => x.id)).toEqual([f?.id]);
  });

  it('latencyMs delays answers', async () => {
    await setFaults({ latencyMs: 200 });
    const t0 = Date.now();
    await api(ctx.sim, ctx.token).get(STORE_PATH);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('a seed makes the faults deterministic', async () => {
    const run = async (): Promise<number[]> => {
      await fetch(`${ctx.sim.url}/_sim/reset`, { method: 'POST' });
      await setFaults({ seed: 42, error503Rate: 0.3, error429Rate: 0.2 });
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await api(ctx.sim, ctx.token).get(STORE_PATH)).status);
      return out;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set([200, 429, 503]));
  });

  it('POST /_sim/reset clears the faults; invalid fault configs are refused', async () => {
    await setFaults({ error503Rate: 1 });
    await fetch(`${ctx.sim.url}/_sim/reset`, { method: 'POST' });
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(200);
    const bad = await setFaults({ error503Rate: 2 });
    expect(bad.status).toBe(400);
    expect((await setFaults({ nonsense: true })).status).toBe(400);
  });

  it('GET /_sim/stats counts injected faults', async () => {
    await setFaults({ error503Rate: 1 });
    await api(ctx.sim, ctx.token).get(STORE_PATH);
    const stats = (await (await fetch(`${ctx.sim.url}/_sim/stats`)).json()) as {
      injected503: number;
      statusCodes: Record<string, number>;
    };
    expect(stats.injected503).toBe(1);
    expect(stats.statusCodes['503']).toBe(1);
  });

  describe('webhook delivery faults', () => {
    let rx: Receiver;
    beforeEach(async () => {
      rx = await startReceiver();
      const r = await api(ctx.sim, ctx.token).postJson('/restapi/v1.0/subscription', {
        eventFilters: [FILTER],
        deliveryMode: { transportType: 'WebHook', address: rx.url },
      });
      expect(r.status).toBe(200);
    });
    afterEach(async () => {
      await rx.close();
    });

    const newIds = (): number[] =>
      rx
        .notifications()
        .flatMap(
          (n) =>
            (n.json as { body: { changes: Array<{ newMessageIds: number[] }> } }).body.changes[0]
              ?.newMessageIds ?? [],
        );

    it('dropped notifications never arrive and are counted', async () => {
      await setFaults({ webhookDropRate: 1 });
      await sendFax(ctx.sim, ctx.token, '+15550000005');
      await sleep(300);
      expect(rx.notifications()).toHaveLength(0);
      const stats = (await (await fetch(`${ctx.sim.url}/_sim/stats`)).json()) as {
        webhooks: { dropped: number };
      };
      expect(stats.webhooks.dropped).toBeGreaterThanOrEqual(3);
    });

    it('duplicated notifications arrive twice', async () => {
      await setFaults({ webhookDuplicateRate: 1 });
      await sendFax(ctx.sim, ctx.token, '+16505550223');
      await waitFor(
        async () => newIds().length,
        (n) => n >= 2,
      );
      const ids = newIds();
      expect(ids[0]).toBe(ids[1]);
    });

    it('delayed notifications arrive late', async () => {
      await setFaults({ webhookDelayRate: 1, webhookDelayMs: 400 });
      const t0 = Date.now();
      await sendFax(ctx.sim, ctx.token, '+16505550224');
      await waitFor(
        async () => newIds().length,
        (n) => n >= 1,
      );
      expect((rx.notifications()[0]?.at ?? 0) - t0).toBeGreaterThanOrEqual(380);
    });

    it('reordered notifications arrive after the next one', async () => {
      // rate 1: a notification is held back whenever none is held, and released right after the next one
      await setFaults({ webhookReorderRate: 1, webhookDelayMs: 300 });
      const id = ((await (await sendFax(ctx.sim, ctx.token, '+15550000005')).json()) as { id: number }).id;
      await waitFor(
        async () => rx.notifications().length,
        (n) => n >= 3,
        5000,
      ); // new, rendered, Sent
      const kinds = rx.notifications().map((n) => {
        const c = (n.json as { body: { changes: Array<{ newCount: number; newMessageIds: number[] }> } }).body
          .changes[0];
        return c?.newCount === 1 ? `new ${c.newMessageIds[0]}` : 'updated';
      });
      expect(kinds).toEqual(['updated', `new ${id}`, 'updated']);
      const stats = (await (await fetch(`${ctx.sim.url}/_sim/stats`)).json()) as {
        webhooks: { reordered: number; delivered: number };
      };
      expect(stats.webhooks.reordered).toBe(2);
      expect(stats.webhooks.delivered).toBe(3);
    });
  });
});

describe('named scenarios', () => {
  it('are valid fault configurations that the simulator applies', async () => {
    const { SCENARIOS, scenarioFaults } = await import('../../src/simulator/scenarios');
    for (const name of Object.keys(SCENARIOS)) expect(() => scenarioFaults(name)).not.toThrow();
    expect(scenarioFaults('flaky')).toMatchObject({ error503Rate: 0.1, ambiguousSendRate: 0.05 });
    expect(() => scenarioFaults('stormy')).toThrow(/the scenarios are calm, flaky/);
  });
});
