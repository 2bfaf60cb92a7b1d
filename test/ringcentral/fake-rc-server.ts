import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny RingCentral for adapter tests, over real HTTP on a random port: the token endpoint (JWT
 * and refresh grants, single-use rotating refresh tokens), fax upload and message-store reads.
 * Tests script the faults the simulator lacks: a token endpoint answer, an upload held unread, an
 * upload answered 401, a 429 with Retry-After.
 */

export interface ScriptedAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Grant = 'jwt' | 'refresh';

export interface Upload {
  /** The whole body arrived. */
  complete: boolean;
  /** The client closed the connection before the body was complete. */
  closedEarly: boolean;
  bytes: number;
}

export interface StoredFax {
  id: string;
  to: { phoneNumber: string }[];
  body: Buffer;
  creationTime: string;
}

const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const EXT = '/restapi/v1.0/account/~/extension/~';

export class FakeRingCentralServer {
  readonly credentials = {
    clientId: `client-${randomBytes(4).toString('hex')}`,
    clientSecret: `secret-${randomBytes(12).toString('hex')}`,
    jwt: `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.${randomBytes(24).toString('base64url')}`,
  };
  url = '';
  /** Every grant the token endpoint was asked for, in order. */
  readonly grants: Grant[] = [];
  /** Every token this server issued: none of them may ever appear in an error or a log line. */
  readonly issuedTokens: string[] = [];
  readonly uploads: Upload[] = [];
  readonly faxes: StoredFax[] = [];
  /** Held uploads are not read until `releaseUploads()`. */
  holdUploads = false;
  /** The token endpoint does not answer while this is set (connections stay open). */
  hangTokenEndpoint = false;

  private readonly server = http.createServer((req, res) => void this.route(req, res));
  private readonly accessTokens = new Set<string>();
  private readonly refreshTokens = new Set<string>();
  private readonly tokenAnswers: {
    grant: Grant | undefined;
    answer: (form: URLSearchParams) => ScriptedAnswer;
  }[] = [];
  private readonly uploadAnswers: ScriptedAnswer[] = [];
  private readonly apiAnswers: ScriptedAnswer[] = [];
  private readonly held: IncomingMessage[] = [];
  private nextId = 1000;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next token request (of this grant, if given) gets this answer instead of tokens. */
  failNextToken(
    grant: Grant | undefined,
    answer: ScriptedAnswer | ((form: URLSearchParams) => ScriptedAnswer),
  ) {
    this.tokenAnswers.push({ grant, answer: typeof answer === 'function' ? answer : () => answer });
  }

  /** The next upload is read in full, then answered with this. */
  failNextUpload(answer: ScriptedAnswer): void {
    this.uploadAnswers.push(answer);
  }

  /** The next authorised API call (any route) gets this answer. */
  failNextApiCall(answer: ScriptedAnswer): void {
    this.apiAnswers.push(answer);
  }

  /** As when RingCentral ends a session: every access token issued so far answers 401. */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  releaseUploads(): void {
    for (const req of this.held.splice(0)) req.resume();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname === '/restapi/oauth/token') return this.token(req, res);
    if (req.method === 'POST' && url.pathname === '/restapi/oauth/revoke') {
      await readBody(req);
      return send(res, { status: 200, body: {} });
    }
    const auth = req.headers.authorization ?? '';
    if (!this.accessTokens.has(auth.replace(/^bearer /i, ''))) {
      await readBody(req);
      return send(res, {
        status: 401,
        body: { errorCode: 'OAU-213', message: 'Token not found', errors: [{ errorCode: 'OAU-213' }] },
      });
    }
    if (req.method === 'POST' && url.pathname === `${EXT}/fax`) return this.upload(req, res);
    const scripted = this.apiAnswers.shift();
    if (scripted) {
      await readBody(req);
      return send(res, scripted);
    }
    const single = url.pathname.match(new RegExp(`^${escape(EXT)}/message-store/(\\w+)$`));
    if (req.method === 'GET' && single) {
      const fax = this.faxes.find((f) => f.id === single[1]);
      return fax
        ? send(res, { status: 200, body: record(fax) })
        : send(res, { status: 404, body: { errorCode: 'CMN-102', message: 'Resource not found' } });
    }
    if (req.method === 'GET' && url.pathname === `${EXT}/message-store`) {
      const records = this.faxes.map(record).reverse();
      return send(res, {
        status: 200,
        body: { records, paging: { page: 1, totalPages: 1, perPage: 1000 }, navigation: {} },
      });
    }
    send(res, { status: 404, body: { errorCode: 'CMN-102', message: 'Resource not found' } });
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.hangTokenEndpoint) return;
    const form = new URLSearchParams((await readBody(req)).toString());
    const grant: Grant = form.get('grant_type') === JWT_GRANT ? 'jwt' : 'refresh';
    this.grants.push(grant);
    const i = this.tokenAnswers.findIndex((a) => a.grant === undefined || a.grant === grant);
    if (i >= 0) return send(res, this.tokenAnswers.splice(i, 1)[0]!.answer(form));
    if (grant === 'jwt' && form.get('assertion') !== this.credentials.jwt) {
      return send(res, invalidGrant('Invalid JWT'));
    }
    if (grant === 'refresh') {
      const presented = form.get('refresh_token') ?? '';
      // Single-use: a refresh token works once, then is dead.
      if (!this.refreshTokens.delete(presented)) return send(res, invalidGrant('Token is expired'));
    }
    const access = `acc-${randomBytes(16).toString('hex')}`;
    const refresh = `ref-${randomBytes(16).toString('hex')}`;
    this.accessTokens.add(access);
    this.refreshTokens.add(refresh);
    this.issuedTokens.push(access, refresh);
    send(res, {
      status: 200,
      body: {
        access_token: access,
        token_type: 'bearer',
        expires_in: 3600,
        refresh_token: refresh,
        refresh_token_expires_in: 604800,
        scope: 'Faxes ReadMessages',
        owner_id: '1',
        endpoint_id: 'e1',
      },
    });
  }

  private upload(req: IncomingMessage, res: ServerResponse): void {
    const upload: Upload = { complete: false, closedEarly: false, bytes: 0 };
    this.uploads.push(upload);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      upload.bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('close', () => {
      if (!req.complete) upload.closedEarly = true;
    });
    req.on('end', () => {
      upload.complete = true;
      const scripted = this.uploadAnswers.shift();
      if (scripted) return send(res, scripted);
      const body = Buffer.concat(chunks);
      const json = body.toString('latin1').match(/\{"to":\[.*?\]/)?.[0];
      const to = json ? (JSON.parse(`${json}}`) as { to: { phoneNumber: string }[] }).to : [];
      const fax: StoredFax = { id: String(this.nextId++), to, body, creationTime: new Date().toISOString() };
      this.faxes.push(fax);
      send(res, { status: 200, body: record(fax) });
    });
    if (this.holdUploads) {
      req.pause();
      this.held.push(req);
    }
  }
}

function record(fax: StoredFax) {
  return {
    id: Number(fax.id),
    type: 'Fax',
    direction: 'Outbound',
    messageStatus: 'Queued',
    faxPageCount: 0,
    availability: 'Alive',
    creationTime: fax.creationTime,
    lastModifiedTime: fax.creationTime,
    to: fax.to.map((t) => ({ ...t, messageStatus: 'Queued' })),
  };
}

function invalidGrant(description: string): ScriptedAnswer {
  return {
    status: 400,
    body: {
      error: 'invalid_grant',
      error_description: description,
      errors: [{ errorCode: 'OAU-211', message: description }],
    },
  };
}

function send(res: ServerResponse, answer: ScriptedAnswer): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\~]/g, '\\$&');
}

/** Resolves once `check` holds; fails the test after `timeoutMs` (a bound, not a measured wait). */
export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
