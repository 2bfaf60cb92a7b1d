import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OAuthErrorBody, TokenResponse } from './schemas';
import { api, JWT_GRANT, sendFax, STORE_PATH, tokenRequest, useSim } from './helpers';

const REDIRECT = 'http://localhost:5555/callback';
const EXT_PATH = '/restapi/v1.0/account/~/extension/~';

interface Ext {
  id: number;
  extensionNumber: string;
  name: string;
  account: { id: string };
}

describe('several accounts, interactive authorize (Auth Code + PKCE)', () => {
  const ctx = useSim(
    {
      timeScale: 0.01,
      interactiveAuthorize: true,
      extraUsers: [{ jwt: 'a-second', name: 'Alice Second' }],
      accounts: [
        { name: 'Beta Corp', users: [{ jwt: 'beta-1', name: 'Bob Beta' }] },
        { id: '777000111', name: 'Gamma <Ltd>', users: [{ jwt: 'gamma-1', name: 'Gus "G" Gamma' }] },
      ],
    },
    { login: false },
  );

  const loginAs = async (jwt: string): Promise<string> => {
    const r = await tokenRequest(ctx.sim, { grant_type: JWT_GRANT, assertion: jwt });
    expect(r.status).toBe(200);
    return TokenResponse.parse(await r.json()).access_token;
  };
  const ext = async (token: string): Promise<{ status: number; body: Ext; remaining: string | null }> => {
    const r = await api(ctx.sim, token).get(EXT_PATH);
    return {
      status: r.status,
      body: (await r.json()) as Ext,
      remaining: r.headers.get('x-rate-limit-remaining'),
    };
  };

  it('accounts have their own ids, extensions (numbered from 101), message stores and budgets', async () => {
    const accounts = (await (await fetch(`${ctx.sim.url}/_sim/accounts`)).json()) as {
      accounts: Array<{ id: string; name: string; users: Array<{ extensionId: string; accountId: string }> }>;
    };
    expect(accounts.accounts.map((a) => [a.id, a.users.length])).toEqual([
      ['400100001', 2],
      ['400100002', 1],
      ['777000111', 1],
    ]);
    const main = await loginAs(ctx.sim.credentials.jwt);
    const beta = await loginAs('beta-1');
    const b = await ext(beta);
    expect(b.body).toMatchObject({ extensionNumber: '101', name: 'Bob Beta', account: { id: '400100002' } });
    expect((await ext(main)).body.account.id).toBe('400100001');

    // the other account's id in the path is not found for this user
    const other = await api(ctx.sim, beta).get(`/restapi/v1.0/account/400100001/extension/~/message-store`);
    expect(other.status).toBe(404);

    // a fax of Beta's is in Beta's store only
    expect((await sendFax(ctx.sim, beta, '+12025550123')).status).toBe(200);
    const list = async (t: string): Promise<number> =>
      ((await (await api(ctx.sim, t).get(STORE_PATH)).json()) as { records: unknown[] }).records.length;
    expect(await list(beta)).toBe(1);
    expect(await list(main)).toBe(0);

    // budgets are per user of each account: main's calls do not use Beta's Light budget
    for (let i = 0; i < 3; i++) await ext(main);
    expect((await ext(main)).remaining).toBe('44'); // 6 Light calls of main's
    expect((await ext(beta)).remaining).toBe('46'); // 4 of Beta's: ext, the 404, list, this one
  });

  it('revocation through /_sim works per account: by extension id, or within /_sim/accounts/{id}', async () => {
    const main = await loginAs(ctx.sim.credentials.jwt);
    const beta = await loginAs('beta-1');
    const gamma = await loginAs('gamma-1');
    const r1 = await fetch(`${ctx.sim.url}/_sim/accounts/400100002/users/~/revoke`, { method: 'POST' });
    expect(await r1.json()).toEqual({ revokedSessions: 1 });
    expect((await ext(beta)).status).toBe(401);
    expect((await ext(main)).status).toBe(200);
    const gammaExt = String((await ext(gamma)).body.id);
    const r2 = await fetch(`${ctx.sim.url}/_sim/users/${gammaExt}/revoke`, { method: 'POST' });
    expect(await r2.json()).toEqual({ revokedSessions: 1 });
    expect((await ext(gamma)).status).toBe(401);
    expect((await ext(main)).status).toBe(200);
    // a user of another account is not found inside this account
    const wrong = await fetch(`${ctx.sim.url}/_sim/accounts/400100001/users/${gammaExt}/revoke`, {
      method: 'POST',
    });
    expect(wrong.status).toBe(404);
    expect((await fetch(`${ctx.sim.url}/_sim/accounts/999/users`)).status).toBe(404);
  });

  const pkce = (): { verifier: string; challenge: string } => {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  };
  const authorizeUrl = (challenge: string, extra: Record<string, string> = {}): string =>
    `${ctx.sim.url}/restapi/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: ctx.sim.credentials.clientId,
      redirect_uri: REDIRECT,
      state: 's<1>',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).toString()}`;
  const openPage = async (challenge: string): Promise<string> => {
    const page = await fetch(authorizeUrl(challenge), { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const id = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
    expect(id).toBeTruthy();
    return html;
  };
  const decide = (html: string, fields: Record<string, string>): Promise<Response> =>
    fetch(`${ctx.sim.url}/restapi/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        request_id: /name="request_id" value="([^"]+)"/.exec(html)?.[1] ?? '',
        ...fields,
      }),
    });
  const exchange = (code: string, verifier: string): Promise<Response> =>
    tokenRequest(ctx.sim, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    });

  it('the page lists every user of every account (escaped); Approve as a user of another account', async () => {
    const { verifier, challenge } = pkce();
    const html = await openPage(challenge);
    expect(html).toContain('Gus &quot;G&quot; Gamma (extension 101, Gamma &lt;Ltd&gt;)');
    expect(html).toContain('Alice Second (extension 102, Sim Account)');
    expect(html).toMatch(/<button[^>]*value="approve"[^>]*>Approve<\/button>/);
    expect(html).toMatch(/<button[^>]*value="deny"[^>]*>Deny<\/button>/);
    const users = (await (await fetch(`${ctx.sim.url}/_sim/accounts/777000111/users`)).json()) as {
      users: Array<{ extensionId: string }>;
    };
    const gammaExt = users.users[0]?.extensionId ?? '';
    const r = await decide(html, { user: gammaExt, decision: 'approve' });
    expect(r.status).toBe(302);
    const loc = new URL(r.headers.get('location') ?? '');
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect(loc.searchParams.get('state')).toBe('s<1>');
    const code = loc.searchParams.get('code') ?? '';
    const t = await exchange(code, verifier);
    expect(t.status).toBe(200);
    const tokens = TokenResponse.parse(await t.json());
    expect(tokens.owner_id).toBe(gammaExt);
    expect((await ext(tokens.access_token)).body.account.id).toBe('777000111');
    // the code is single-use
    const again = await exchange(code, verifier);
    expect(again.status).toBe(400);
    expect(OAuthErrorBody.parse(await again.json()).error).toBe('invalid_grant');
    // the page is single-use too
    const reuse = await decide(html, { user: gammaExt, decision: 'approve' });
    expect(reuse.status).toBe(400);
  });

  it('Deny redirects with error=access_denied and the state, and issues no code', async () => {
    const { challenge } = pkce();
    const html = await openPage(challenge);
    const r = await decide(html, { user: '400200001', decision: 'deny' });
    expect(r.status).toBe(302);
    const loc = new URL(r.headers.get('location') ?? '');
    expect(loc.searchParams.get('error')).toBe('access_denied');
    expect(loc.searchParams.get('state')).toBe('s<1>');
    expect(loc.searchParams.has('code')).toBe(false);
  });

  it('a wrong verifier is refused; an unknown user or decision is a clear 400', async () => {
    const { verifier, challenge } = pkce();
    const html = await openPage(challenge);
    const bad = await decide(html, { user: 'nobody', decision: 'approve' });
    expect(bad.status).toBe(400);
    expect(OAuthErrorBody.parse(await bad.json()).error_description).toMatch(/user/);
    const html2 = await openPage(challenge);
    const odd = await decide(html2, { user: '400200001', decision: 'maybe' });
    expect(odd.status).toBe(400);
    const html3 = await openPage(challenge);
    const ok = await decide(html3, { user: '400200001', decision: 'approve' });
    const code = new URL(ok.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const wrong = await exchange(code, `${verifier}x`);
    expect(wrong.status).toBe(400);
    expect(OAuthErrorBody.parse(await wrong.json()).error_description).toMatch(/code_verifier/);
  });

  it('login_hint still auto-approves as that user, even in interactive mode', async () => {
    const { verifier, challenge } = pkce();
    const r = await fetch(authorizeUrl(challenge, { login_hint: 'beta-1' }), { redirect: 'manual' });
    expect(r.status).toBe(302);
    const code = new URL(r.headers.get('location') ?? '').searchParams.get('code') ?? '';
    const tokens = TokenResponse.parse(await (await exchange(code, verifier)).json());
    expect((await ext(tokens.access_token)).body.name).toBe('Bob Beta');
  });
});
