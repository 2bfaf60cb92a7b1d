import { describe, expect, it } from 'vitest';
import { ApiErrorBody, OAuthErrorBody, TokenResponse } from './schemas';
import { api, basicAuth, JWT_GRANT, login, STORE_PATH, tokenRequest, useSim } from './helpers';

describe('OAuth JWT grant and bearer checks', () => {
  const ctx = useSim({}, { login: false });

  it('issues the documented token response for a JWT grant with Basic client auth', async () => {
    const r = await tokenRequest(ctx.sim, { grant_type: JWT_GRANT, assertion: ctx.sim.credentials.jwt });
    expect(r.status).toBe(200);
    const body = TokenResponse.parse(await r.json());
    expect(body.scope).toContain('Faxes');
    expect(r.headers.get('x-rate-limit-group')).toBe('Auth');
  });

  it('reports token lifetimes in simulated seconds and honours a requested access_token_ttl', async () => {
    const t = await login(ctx.sim);
    expect(t.expires_in).toBe(3600);
    expect(t.refresh_token_expires_in).toBe(604800);
    expect((await login(ctx.sim, { access_token_ttl: '900' })).expires_in).toBe(900);
  });

  it('refuses a wrong client secret with invalid_client', async () => {
    const r = await tokenRequest(
      ctx.sim,
      { grant_type: JWT_GRANT, assertion: ctx.sim.credentials.jwt },
      basicAuth(ctx.sim, 'nope'),
    );
    expect(r.status).toBe(401);
    const body = OAuthErrorBody.parse(await r.json());
    expect(body.error).toBe('invalid_client');
  });

  it('refuses an unknown JWT with invalid_grant', async () => {
    const r = await tokenRequest(ctx.sim, { grant_type: JWT_GRANT, assertion: 'forged' });
    expect(r.status).toBe(400);
    expect(OAuthErrorBody.parse(await r.json()).error).toBe('invalid_grant');
  });

  it('refuses an unsupported grant type', async () => {
    const r = await tokenRequest(ctx.sim, { grant_type: 'password', username: 'x', password: 'y' });
    expect(r.status).toBe(400);
    expect(OAuthErrorBody.parse(await r.json()).error).toBe('unsupported_grant_type');
  });

  it('answers 401 in the API error shape without a bearer token', async () => {
    const r = await fetch(`${ctx.sim.url}${STORE_PATH}`);
    expect(r.status).toBe(401);
    const body = ApiErrorBody.parse(await r.json());
    expect(body.errorCode).toMatch(/^OAU-/);
  });

  it('answers 401 for an unknown bearer token', async () => {
    const r = await api(ctx.sim, 'not-a-token').get(STORE_PATH);
    expect(r.status).toBe(401);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('OAU-213');
  });

  it('answers 401 once the access token expired (TTL scaled)', async () => {
    // access_token_ttl 600 s at timeScale 0.002 = 1.2 s
    const t = await login(ctx.sim, { access_token_ttl: '600' });
    expect((await api(ctx.sim, t.access_token).get(STORE_PATH)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1400));
    const r = await api(ctx.sim, t.access_token).get(STORE_PATH);
    expect(r.status).toBe(401);
    expect(ApiErrorBody.parse(await r.json()).message).toMatch(/expired/i);
  });
});
