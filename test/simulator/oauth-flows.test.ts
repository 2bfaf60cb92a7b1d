import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OAuthErrorBody, TokenResponse } from './schemas';
import { api, basicAuth, login, sleep, STORE_PATH, tokenRequest, useSim, waitFor } from './helpers';

const REDIRECT = 'http://localhost:5555/callback';

describe('OAuth refresh, authorization code + PKCE, revoke, session cap', () => {
  const ctx = useSim({ timeScale: 0.01, rateLimits: false }, { login: false });

  const refresh = (rt: string, auth?: string): Promise<Response> =>
    tokenRequest(ctx.sim, { grant_type: 'refresh_token', refresh_token: rt }, auth ?? basicAuth(ctx.sim));

  it('refresh rotates both tokens', async () => {
    const t = await login(ctx.sim);
    const r = await refresh(t.refresh_token);
    expect(r.status).toBe(200);
    const n = TokenResponse.parse(await r.json());
    expect(n.access_token).not.toBe(t.access_token);
    expect(n.refresh_token).not.toBe(t.refresh_token);
    expect((await api(ctx.sim, n.access_token).get(STORE_PATH)).status).toBe(200);
  });

  it('on refresh the old access token stops working at once; lifetimes are 1 h and 7 days', async () => {
    const t = await login(ctx.sim);
    expect([t.expires_in, t.refresh_token_expires_in]).toEqual([3600, 604800]);
    expect((await api(ctx.sim, t.access_token).get(STORE_PATH)).status).toBe(200);
    const n = TokenResponse.parse(await (await refresh(t.refresh_token)).json());
    expect([n.expires_in, n.refresh_token_expires_in]).toEqual([3600, 604800]);
    const old = await api(ctx.sim, t.access_token).get(STORE_PATH);
    expect(old.status).toBe(401);
    expect((await api(ctx.sim, n.access_token).get(STORE_PATH)).status).toBe(200);
  });

  it('refreshKillsOldAccessToken: false keeps the old access token (a lenient option, not RingCentral)', async () => {
    await ctx.restart({ timeScale: 0.01, rateLimits: false, refreshKillsOldAccessToken: false }, false);
    const t = await login(ctx.sim);
    expect((await refresh(t.refresh_token)).status).toBe(200);
    expect((await api(ctx.sim, t.access_token).get(STORE_PATH)).status).toBe(200);
  });

  it('a repeated refresh with the same refresh token answers the same pair', async () => {
    const t = await login(ctx.sim);
    const first = TokenResponse.parse(await (await refresh(t.refresh_token)).json());
    const second = TokenResponse.parse(await (await refresh(t.refresh_token)).json());
    expect([second.access_token, second.refresh_token]).toEqual([first.access_token, first.refresh_token]);
    expect((await api(ctx.sim, second.access_token).get(STORE_PATH)).status).toBe(200);
  });

  it('about 10 s (scaled) after the new access token is used, the old refresh token is invalid_grant OAU-211', async () => {
    const t = await login(ctx.sim);
    const n = TokenResponse.parse(await (await refresh(t.refresh_token)).json());
    expect((await api(ctx.sim, n.access_token).get(STORE_PATH)).status).toBe(200);
    const dead = await waitFor(
      () => refresh(t.refresh_token),
      (r) => r.status !== 200,
    );
    expect(dead.status).toBe(400);
    expect(OAuthErrorBody.parse(await dead.json())).toMatchObject({
      error: 'invalid_grant',
      errors: [{ errorCode: 'OAU-211' }],
    });
    // the rotated token is unaffected
    expect((await refresh(n.refresh_token)).status).toBe(200);
  });

  it('once the replacement pair was itself refreshed, the first refresh token has no pair to answer', async () => {
    const t = await login(ctx.sim);
    const n = TokenResponse.parse(await (await refresh(t.refresh_token)).json());
    expect((await refresh(n.refresh_token)).status).toBe(200);
    const r = await refresh(t.refresh_token);
    expect(r.status).toBe(400);
    expect(OAuthErrorBody.parse(await r.json()).error).toBe('invalid_grant');
  });

  it('an unknown refresh token is invalid_grant', async () => {
    const r = await refresh('R-nope');
    expect(r.status).toBe(400);
    expect(OAuthErrorBody.parse(await r.json()).error).toBe('invalid_grant');
  });

  it('the refresh token expires after its (scaled) TTL', async () => {
    // refresh_token_ttl 3600 s at 0.01 = 36 s is too long for a test; use a tighter scale
    await ctx.restart({ timeScale: 0.0002, rateLimits: false }, false);
    const t = await login(ctx.sim, { refresh_token_ttl: '3600' }); // 0.72 s
    const r = await waitFor(
      () => refresh(t.refresh_token),
      (x) => x.status !== 200,
    );
    expect(r.status).toBe(400);
    expect(OAuthErrorBody.parse(await r.json())).toMatchObject({
      error: 'invalid_grant',
      error_description: 'Token expired',
      errors: [{ errorCode: 'OAU-210' }],
    });
  });

  const authorize = async (params: Record<string, string>): Promise<Response> =>
    fetch(`${ctx.sim.url}/restapi/oauth/authorize?${new URLSearchParams(params).toString()}`, {
      redirect: 'manual',
    });

  const pkce = (): { verifier: string; challenge: string } => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };

  it('authorize redirects to redirect_uri with code and state', async () => {
    const { challenge } = pkce();
    const r = await authorize({
      response_type: 'code',
      client_id: ctx.sim.credentials.clientId,
      redirect_uri: REDIRECT,
      state: 'xyz',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(r.status).toBe(302);
    const loc = new URL(r.headers.get('location') ?? '');
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect(loc.searchParams.get('state')).toBe('xyz');
    expect(loc.searchParams.get('code')).toBeTruthy();
  });

  const codeFor = async (extra: Record<string, string>): Promise<string> => {
    const r = await authorize({
      response_type: 'code',
      client_id: ctx.sim.credentials.clientId,
      redirect_uri: REDIRECT,
      ...extra,
    });
    return new URL(r.headers.get('location') ?? '').searchParams.get('code') ?? '';
  };

  it('PKCE S256: a public client exchanges the code with the right verifier', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
    const r = await tokenRequest(
      ctx.sim,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
        client_id: ctx.sim.credentials.clientId,
      },
      null,
    );
    expect(r.status).toBe(200);
    TokenResponse.parse(await r.json());
  });

  it('PKCE S256: a wrong verifier is invalid_grant and the code is then spent', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: ctx.sim.credentials.clientId,
    };
    const bad = await tokenRequest(ctx.sim, { ...form, code_verifier: `${verifier}x` }, null);
    expect(bad.status).toBe(400);
    expect(OAuthErrorBody.parse(await bad.json()).error).toBe('invalid_grant');
    expect((await tokenRequest(ctx.sim, { ...form, code_verifier: verifier }, null)).status).toBe(400);
  });

  it('PKCE plain: the verifier must equal the challenge', async () => {
    const code = await codeFor({
      code_challenge: 'plain-challenge-value-0123456789abcdef0123456',
      code_challenge_method: 'plain',
    });
    const r = await tokenRequest(
      ctx.sim,
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: 'plain-challenge-value-0123456789abcdef0123456',
        client_id: ctx.sim.credentials.clientId,
      },
      null,
    );
    expect(r.status).toBe(200);
  });

  it('a code without PKCE needs the client secret, and the redirect_uri must match', async () => {
    const code1 = await codeFor({});
    const pub = await tokenRequest(
      ctx.sim,
      {
        grant_type: 'authorization_code',
        code: code1,
        redirect_uri: REDIRECT,
        client_id: ctx.sim.credentials.clientId,
      },
      null,
    );
    expect(pub.status).toBe(401);
    const code2 = await codeFor({});
    const wrong = await tokenRequest(ctx.sim, {
      grant_type: 'authorization_code',
      code: code2,
      redirect_uri: 'http://evil/cb',
    });
    expect(wrong.status).toBe(400);
    const code3 = await codeFor({});
    expect(
      (await tokenRequest(ctx.sim, { grant_type: 'authorization_code', code: code3, redirect_uri: REDIRECT }))
        .status,
    ).toBe(200);
  });

  it('the code expires after about 60 s (scaled)', async () => {
    const code = await codeFor({});
    await sleep(700);
    expect(
      (await tokenRequest(ctx.sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }))
        .status,
    ).toBe(400);
  });

  it('revoke ends the session: access is 401 and refresh is invalid_grant', async () => {
    const t = await login(ctx.sim);
    const r = await fetch(`${ctx.sim.url}/restapi/oauth/revoke`, {
      method: 'POST',
      headers: { Authorization: basicAuth(ctx.sim), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: t.access_token }),
    });
    expect(r.status).toBe(200);
    expect((await api(ctx.sim, t.access_token).get(STORE_PATH)).status).toBe(401);
    expect((await refresh(t.refresh_token)).status).toBe(400);
  });

  it('a sixth login evicts the oldest of five live sessions', async () => {
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await login(ctx.sim));
    for (const s of sessions) expect((await api(ctx.sim, s.access_token).get(STORE_PATH)).status).toBe(200);
    const sixth = await login(ctx.sim);
    expect((await api(ctx.sim, sessions[0]?.access_token ?? '').get(STORE_PATH)).status).toBe(401);
    expect((await refresh(sessions[0]?.refresh_token ?? '')).status).toBe(400);
    for (const s of [...sessions.slice(1), sixth])
      expect((await api(ctx.sim, s.access_token).get(STORE_PATH)).status).toBe(200);
  });

  it('refreshing keeps the session (does not count as a new login)', async () => {
    const first = await login(ctx.sim);
    let rt = first.refresh_token;
    for (let i = 0; i < 6; i++) {
      const n = TokenResponse.parse(await (await refresh(rt)).json());
      rt = n.refresh_token;
    }
    for (let i = 0; i < 4; i++) await login(ctx.sim);
    expect((await refresh(rt)).status).toBe(200);
  });
});
