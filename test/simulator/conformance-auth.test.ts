/** Conformance: token-endpoint faults, revoking a user, injected 503s, accept-after sends, permissions. */
import { describe, expect, it } from 'vitest';
import { ApiErrorBody, OAuthErrorBody, TokenResponse } from './schemas';
import {
  api,
  basicAuth,
  login,
  sendFax,
  simFaxes,
  STORE_PATH,
  tokenRequest,
  useSim,
  waitFor,
} from './helpers';

describe('conformance: tokens, faults and permissions', () => {
  const ctx = useSim({ rateLimits: false });

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${ctx.sim.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const refresh = (rt: string): Promise<Response> =>
    tokenRequest(ctx.sim, { grant_type: 'refresh_token', refresh_token: rt }, basicAuth(ctx.sim));
  const extensionId = async (): Promise<string> =>
    ((await (await fetch(`${ctx.sim.url}/_sim/users`)).json()) as { users: Array<{ extensionId: string }> })
      .users[0]?.extensionId ?? '';

  it('the token endpoint answers 503 CMN-211 with Retry-After for the next N calls, then recovers', async () => {
    expect((await post('/_sim/faults', { tokenError503Count: 2, retryAfter503: 7 })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await tokenRequest(ctx.sim, { grant_type: 'refresh_token', refresh_token: 'x' });
      expect(r.status).toBe(503);
      expect(r.headers.get('retry-after')).toBe('7');
      expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-211');
    }
    const faults = (await (await fetch(`${ctx.sim.url}/_sim/faults`)).json()) as {
      tokenError503Count: number;
    };
    expect(faults.tokenError503Count).toBe(0);
    expect((await login(ctx.sim)).access_token).toMatch(/^A/);
    // other endpoints were never affected
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(200);
  });

  it('the token endpoint answers 503 at a rate', async () => {
    await post('/_sim/faults', { tokenError503Rate: 1 });
    expect((await tokenRequest(ctx.sim, { grant_type: 'refresh_token', refresh_token: 'x' })).status).toBe(
      503,
    );
  });

  it('a refresh answers invalid_grant on demand; the JWT grant is unaffected', async () => {
    const t = await login(ctx.sim);
    await post('/_sim/faults', { refreshInvalidGrantCount: 1 });
    const r = await refresh(t.refresh_token);
    expect(r.status).toBe(400);
    expect(OAuthErrorBody.parse(await r.json())).toMatchObject({ error: 'invalid_grant' });
    expect((await login(ctx.sim)).access_token).toMatch(/^A/);
    const stats = (await (await fetch(`${ctx.sim.url}/_sim/stats`)).json()) as {
      injectedInvalidGrant: number;
    };
    expect(stats.injectedInvalidGrant).toBe(1);
  });

  it("revoking a user's tokens ends every session: 401 for access tokens, invalid_grant for refresh tokens", async () => {
    const t = await login(ctx.sim);
    const r = await post(`/_sim/users/${await extensionId()}/revoke`, {});
    expect(((await r.json()) as { revokedSessions: number }).revokedSessions).toBe(2);
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(401);
    expect((await api(ctx.sim, t.access_token).get(STORE_PATH)).status).toBe(401);
    expect(OAuthErrorBody.parse(await (await refresh(t.refresh_token)).json()).error).toBe('invalid_grant');
    // a new login works (reconnect)
    expect((await api(ctx.sim, (await login(ctx.sim)).access_token).get(STORE_PATH)).status).toBe(200);
  });

  it('an injected 503 on the REST API carries CMN-211 and Retry-After', async () => {
    await post('/_sim/faults', { error503Rate: 1, groups: ['Light'] });
    const r = await api(ctx.sim, ctx.token).get(STORE_PATH);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-211');
  });

  it('accept-after: the fax is stored and transmitting before the delayed answer arrives', async () => {
    await post('/_sim/faults', { acceptAfterMs: 60_000 });
    const pending = sendFax(ctx.sim, ctx.token, '+16505550301').catch((e: unknown) => e);
    // the fax exists (and will transmit) although its answer is still a minute away
    const faxes = await waitFor(
      () => simFaxes(ctx.sim),
      (f) => f.length === 1,
    );
    expect(faxes[0]?.recipients[0]?.phoneNumber).toBe('+16505550301');
    await post('/_sim/faults', {});
    await ctx.restart({ rateLimits: false }); // closes the held connection
    expect(await pending).toBeInstanceOf(Error);
  });

  it('accept-after with a short delay answers the send normally, late', async () => {
    await post('/_sim/faults', { acceptAfterMs: 50 });
    const r = await sendFax(ctx.sim, ctx.token, '+16505550302');
    expect(r.status).toBe(200);
    const stats = (await (await fetch(`${ctx.sim.url}/_sim/stats`)).json()) as { delayedAccepts: number };
    expect(stats.delayedAccepts).toBe(1);
  });

  it.each([
    [{ faxSendBlocked: 'MSG-340' }, 'MSG-340', /extension type/],
    [{ faxSendBlocked: 'MSG-341' }, 'MSG-341', /not allowed for extension/],
    [{ missingAppScopes: ['Faxes'] }, 'CMN-401', /application needs to have \[Faxes\] permission/],
    [{ missingUserPermissions: ['OutboundFaxes'] }, 'CMN-408', /user needs to have \[OutboundFaxes\]/],
  ])('user flags %j make a send answer 403 %s', async (flags, code, message) => {
    expect((await post(`/_sim/users/${await extensionId()}`, { flags })).status).toBe(200);
    const r = await sendFax(ctx.sim, ctx.token, '+16505550303');
    expect(r.status).toBe(403);
    const body = ApiErrorBody.parse(await r.json());
    expect(body.errorCode).toBe(code);
    expect(body.message).toMatch(message);
    expect(await simFaxes(ctx.sim)).toHaveLength(0);
    // reading the message store needs other permissions and still works
    expect((await api(ctx.sim, ctx.token).get(STORE_PATH)).status).toBe(200);
  });

  it('a missing app scope is left out of the token scope and refuses the calls that need it', async () => {
    await post(`/_sim/users/${await extensionId()}`, { flags: { missingAppScopes: ['ReadMessages'] } });
    const t = TokenResponse.parse(await (await tokenRequestJwt()).json());
    expect(t.scope.split(' ')).not.toContain('ReadMessages');
    const r = await api(ctx.sim, t.access_token).get(STORE_PATH);
    expect(r.status).toBe(403);
    expect(ApiErrorBody.parse(await r.json()).errorCode).toBe('CMN-401');
  });

  const tokenRequestJwt = (): Promise<Response> =>
    tokenRequest(ctx.sim, {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: ctx.sim.credentials.jwt,
    });
});
