import { describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '../../src/simulator/index';
import { ApiErrorBody } from './schemas';
import { api, JWT_GRANT, login, sendFax, useSim, STORE_PATH, tokenRequest, waitFor } from './helpers';

describe('rate limits', () => {
  const ctx = useSim({ timeScale: 0.02 }, { login: false });

  // timeScale 0.02: the 60 s window (and penalty) lasts 1.2 s
  const setup = async (opts = {}) => {
    await ctx.restart({ timeScale: 0.02, ...opts }, true);
    return { sim: ctx.sim, token: ctx.token };
  };

  it('every response carries the X-Rate-Limit headers of its group', async () => {
    const { sim, token } = await setup();
    const light = await api(sim, token).get(STORE_PATH);
    expect(
      Object.fromEntries(
        ['group', 'limit', 'remaining', 'window'].map((k) => [k, light.headers.get(`x-rate-limit-${k}`)]),
      ),
    ).toEqual({
      group: 'Light',
      limit: '50',
      remaining: '49',
      window: '2',
    });
    const heavy = await sendFax(sim, token, '+16505550200');
    expect([heavy.headers.get('x-rate-limit-group'), heavy.headers.get('x-rate-limit-limit')]).toEqual([
      'Heavy',
      '10',
    ]);
    const medium = await api(sim, token).del(`${STORE_PATH}/1`);
    expect(medium.status).toBe(404);
    expect([medium.headers.get('x-rate-limit-group'), medium.headers.get('x-rate-limit-limit')]).toEqual([
      'Medium',
      '40',
    ]);
    const auth = await tokenRequest(sim, { grant_type: JWT_GRANT, assertion: sim.credentials.jwt });
    expect([auth.headers.get('x-rate-limit-group'), auth.headers.get('x-rate-limit-limit')]).toEqual([
      'Auth',
      '5',
    ]);
    const unauth = await fetch(`${sim.url}${STORE_PATH}`);
    expect(unauth.headers.get('x-rate-limit-group')).toBe('Light');
  });

  it('Heavy: the 11th fax in a window is 429 CMN-301 with a whole-second Retry-After', async () => {
    const { sim, token } = await setup();
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await sendFax(sim, token, '+16505550201');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    expect(last?.headers.get('retry-after')).toBe('2');
    expect(last?.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(ApiErrorBody.parse(await last?.json()).errorCode).toBe('CMN-301');
    // other groups are unaffected
    expect((await api(sim, token).get(STORE_PATH)).status).toBe(200);
  });

  const heavyPenalty = async (sim: SimulatorHandle): Promise<number> => {
    const r = (await (await fetch(`${sim.url}/_sim/rate-limits`)).json()) as {
      buckets: Array<{ bucket: string; penaltyUntil: number; windowStart: number }>;
    };
    return r.buckets.find((b) => b.bucket.startsWith('Heavy|'))?.penaltyUntil ?? 0;
  };
  const until = (t: number) =>
    waitFor(
      async () => Date.now(),
      (now) => now > t,
      10_000,
      10,
    );

  it('the penalty ends at the scaled time, and calls during it restart it', async () => {
    const { sim, token } = await setup();
    for (let i = 0; i < 11; i++) await sendFax(sim, token, '+16505550202');
    const first = await heavyPenalty(sim);
    expect(first).toBeGreaterThan(0);
    await until(first - 600); // half-way through the 1.2 s penalty
    expect((await sendFax(sim, token, '+16505550202')).status).toBe(429);
    const restarted = await heavyPenalty(sim);
    expect(restarted).toBeGreaterThan(first);
    await until(first); // the first penalty is over, the restarted one is not
    expect((await sendFax(sim, token, '+16505550202')).status).toBe(429);
    await until(await heavyPenalty(sim));
    expect((await sendFax(sim, token, '+16505550202')).status).toBe(200);
  });

  it('a new window starts after the window length', async () => {
    const { sim, token } = await setup();
    for (let i = 0; i < 10; i++) expect((await sendFax(sim, token, '+16505550203')).status).toBe(200);
    const r = (await (await fetch(`${sim.url}/_sim/rate-limits`)).json()) as {
      buckets: Array<{ bucket: string; windowStart: number }>;
    };
    const start = r.buckets.find((b) => b.bucket.startsWith('Heavy|'))?.windowStart ?? 0;
    await until(start + 1200);
    expect((await sendFax(sim, token, '+16505550203')).status).toBe(200);
  });

  it('Auth: 5 token calls per window per client', async () => {
    const { sim } = await setup(); // the setup login was call 1
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await tokenRequest(sim, { grant_type: JWT_GRANT, assertion: sim.credentials.jwt })).status,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('Medium: 40 deletes per window; Light: 50 reads per window', async () => {
    const { sim, token } = await setup();
    const a = api(sim, token);
    const med = await Promise.all(Array.from({ length: 41 }, () => a.del(`${STORE_PATH}/1`)));
    expect(med.filter((r) => r.status === 429)).toHaveLength(1);
    const light = await Promise.all(Array.from({ length: 51 }, () => a.get(STORE_PATH)));
    expect(light.filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('limits are per user: another extension has its own budget', async () => {
    const { sim, token } = await setup({ extraUsers: [{ jwt: 'second-user-jwt' }] });
    const other = (await login(sim, { assertion: 'second-user-jwt' })).access_token;
    for (let i = 0; i < 10; i++) await sendFax(sim, token, '+16505550204');
    expect((await sendFax(sim, token, '+16505550204')).status).toBe(429);
    expect((await sendFax(sim, other, '+16505550204')).status).toBe(200);
  });

  it('rateLimits: false disables them (headers still present)', async () => {
    const { sim, token } = await setup({ rateLimits: false });
    const rs = await Promise.all(Array.from({ length: 15 }, () => sendFax(sim, token, '+16505550205')));
    expect(rs.every((r) => r.status === 200)).toBe(true);
    expect(rs[0]?.headers.get('x-rate-limit-group')).toBe('Heavy');
  });

  it('GET /_sim/stats counts calls per endpoint and group and the 429s returned', async () => {
    const { sim, token } = await setup();
    for (let i = 0; i < 11; i++) await sendFax(sim, token, '+16505550206');
    await api(sim, token).get(STORE_PATH);
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as {
      callsByEndpoint: Record<string, number>;
      callsByGroup: Record<string, number>;
      rateLimited429: number;
      faxesAccepted: number;
    };
    expect(stats.callsByEndpoint['POST /restapi/v1.0/account/~/extension/~/fax']).toBe(11);
    expect(stats.callsByGroup).toMatchObject({ Heavy: 11, Light: 1, Auth: 1 });
    expect(stats.rateLimited429).toBe(1);
    expect(stats.faxesAccepted).toBe(10);
  });
});
