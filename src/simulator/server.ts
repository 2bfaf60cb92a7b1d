/** The simulator's HTTP server: routing, authentication, rate limits, faults and the API handlers. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Scheduler } from './clock';
import {
  ApiError,
  invalidParameter,
  messageTooLarge,
  notFound,
  OAuthError,
  rateExceeded,
  serviceUnavailable,
} from './errors';
import { MAX_FAX_BODY_BYTES, MAX_TOTAL_ATTACHMENT_BYTES, parseFaxRequest } from './fax-request';
import { FaxStore, type Fax, type ListQuery } from './fax-store';
import { Faults } from './faults';
import { parseJsonBody, readBody, sendEmpty, sendError, sendJson } from './http-util';
import { iso, toRecord } from './message-record';
import { OAuthServer } from './oauth';
import { resolveOptions, type ResolvedOptions, type ResolvedUser, type SimulatorOptions } from './options';
import { OutboundHttp } from './outbound-http';
import { RateLimiter } from './rate-limits';
import { matchRoute, type Route } from './routes';
import { handleSimControl } from './sim-control';
import { Stats } from './stats';
import { Webhooks } from './webhooks';

const SMALL_BODY_CAP = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  route: Route;
  params: string[];
  user: ResolvedUser;
  rateHeaders: Record<string, string>;
  /** body already read for client-authenticated routes */
  body: Buffer | undefined;
}

export class Simulator {
  readonly opts: ResolvedOptions;
  readonly scheduler: Scheduler;
  readonly store: FaxStore;
  readonly oauth: OAuthServer;
  readonly limiter: RateLimiter;
  readonly faults = new Faults();
  readonly stats = new Stats();
  readonly outbound = new OutboundHttp();
  readonly webhooks: Webhooks;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  url = '';

  constructor(options: SimulatorOptions = {}) {
    this.opts = resolveOptions(options);
    this.scheduler = new Scheduler(this.opts.timeScale);
    this.store = new FaxStore(this.scheduler, this.opts.msPerPage, this.opts.log);
    this.oauth = new OAuthServer(this.opts, this.scheduler);
    this.limiter = new RateLimiter(this.scheduler, this.opts.rateLimits);
    this.webhooks = new Webhooks(
      this.scheduler,
      this.outbound,
      this.faults,
      this.stats,
      () => this.url,
      this.opts.log,
    );
    this.store.onChange((fax, kind) => this.webhooks.onFaxChange(fax, kind));
    this.server = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        this.opts.log(`unhandled error: ${String(e)}`);
        sendError(res, e);
      });
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket: Socket) => {
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        const addr = this.server.address() as AddressInfo;
        this.url = `http://${this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host}:${addr.port}`;
        this.opts.log(`RingCentral simulator listening on ${this.url} (timeScale ${this.opts.timeScale})`);
        resolve();
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  async close(): Promise<void> {
    this.scheduler.close();
    this.outbound.close();
    this.webhooks.reset();
    this.store.reset();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
  }

  /** POST /_sim/reset: forget faxes, subscriptions, rate-limit state, faults and stats. */
  reset(sessions: boolean): void {
    this.scheduler.clearAll();
    this.outbound.abortAll();
    this.store.reset();
    this.webhooks.reset();
    this.limiter.reset();
    this.faults.reset();
    const s = new Stats();
    Object.assign(this.stats, s);
    if (sessions) this.oauth.reset();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    res.on('finish', () => this.stats.status(res.statusCode));

    if (path === '/_sim' || path.startsWith('/_sim/')) {
      await handleSimControl(this, req, res, method, path, url);
      return;
    }
    const m = matchRoute(method, path);
    if (m === undefined) {
      sendError(
        res,
        new ApiError(404, 'CMN-102', `Resource for parameter [path] is not found: ${path}`, 'path'),
      );
      return;
    }
    if ('allowed' in m) {
      sendError(res, new ApiError(405, 'CMN-405', `Method ${method} is not allowed for ${path}`), {
        Allow: m.allowed.join(', '),
      });
      return;
    }
    const { route, params } = m;
    this.stats.call(route.name, route.group);

    // 1. who is calling (the rate-limit key)
    let user: ResolvedUser | undefined;
    let body: Buffer | undefined;
    let key: string;
    if (route.auth === 'bearer') {
      try {
        user = this.oauth.authenticate(req.headers.authorization);
      } catch (e) {
        sendError(res, e, this.limiter.peek(route.group, undefined));
        return;
      }
      key = `${this.opts.clientId}|${user.extensionId}`;
    } else if (route.auth === 'client') {
      const r = await readBody(req, SMALL_BODY_CAP);
      if (!r.ok) {
        sendError(res, new OAuthError(400, 'invalid_request', 'OAU-109', 'Request body too large'), {
          Connection: 'close',
        });
        return;
      }
      body = r.body;
      key = clientKey(req.headers.authorization, body) ?? `ip:${req.socket.remoteAddress ?? ''}`;
    } else {
      key = url.searchParams.get('client_id') ?? `ip:${req.socket.remoteAddress ?? ''}`;
    }

    // 2. injected transient faults (never processed, never counted)
    const faults = this.faults.config;
    if (this.faults.appliesTo(route.group)) {
      if (faults.latencyMs > 0) await this.scheduler.sleepReal(faults.latencyMs);
      if (this.faults.roll(faults.error503Rate)) {
        this.stats.injected503++;
        sendError(res, serviceUnavailable(), this.limiter.peek(route.group, key));
        return;
      }
      if (this.faults.roll(faults.error429Rate)) {
        this.stats.injected429++;
        sendError(res, rateExceeded(this.limiter.retryAfterSeconds()), this.limiter.peek(route.group, key));
        return;
      }
    }

    // 3. rate limits
    const decision = this.limiter.take(route.group, key);
    if (!decision.allowed) {
      this.stats.rateLimited429++;
      sendError(res, rateExceeded(decision.retryAfter ?? 1), decision.headers);
      return;
    }

    try {
      if (route.auth !== 'bearer') {
        await this.handleAuthRoute(route, req, res, url, body ?? Buffer.alloc(0), decision.headers);
        return;
      }
      const ctx: Ctx = {
        req,
        res,
        url,
        route,
        params,
        user: user as ResolvedUser,
        rateHeaders: decision.headers,
        body,
      };
      await this.handleApi(ctx);
    } catch (e) {
      sendError(res, e, decision.headers);
    }
  }

  private async handleAuthRoute(
    route: Route,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
    headers: Record<string, string>,
  ): Promise<void> {
    if (route.handler === 'authorize') {
      const location = this.oauth.authorize(url.searchParams);
      sendEmpty(res, 302, { ...headers, Location: location });
      return;
    }
    const ct = req.headers['content-type'] ?? '';
    if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded'))
      throw new OAuthError(
        400,
        'invalid_request',
        'OAU-109',
        'Content-Type must be application/x-www-form-urlencoded',
      );
    const form = new URLSearchParams(body.toString('utf8'));
    const client = this.oauth.authenticateClient(req.headers.authorization, form);
    if (route.handler === 'token') {
      const token = this.oauth.token(client, form);
      sendJson(res, 200, token, { ...headers, 'Cache-Control': 'no-store', Pragma: 'no-cache' });
      return;
    }
    this.oauth.revoke(client, form);
    sendEmpty(res, 200, headers);
  }

  private checkOwner(ctx: Ctx): void {
    const [account, extension] = ctx.params;
    if (account !== '~' && account !== ctx.user.accountId) throw notFound('accountId');
    if (extension !== '~' && extension !== ctx.user.extensionId) throw notFound('extensionId');
  }

  private async handleApi(ctx: Ctx): Promise<void> {
    const { res, rateHeaders: h } = ctx;
    switch (ctx.route.handler) {
      case 'sendFax':
        this.checkOwner(ctx);
        return this.sendFax(ctx);
      case 'listMessages':
        this.checkOwner(ctx);
        return sendJson(res, 200, this.listMessages(ctx), h);
      case 'getMessage': {
        this.checkOwner(ctx);
        return sendJson(res, 200, toRecord(this.findFax(ctx), this.url), h);
      }
      case 'deleteMessage': {
        this.checkOwner(ctx);
        const fax = this.findFax(ctx);
        this.store.delete(fax, ctx.url.searchParams.get('purge') === 'true');
        return sendEmpty(res, 204, h);
      }
      case 'updateMessage': {
        this.checkOwner(ctx);
        const fax = this.findFax(ctx);
        const body = parseJsonBody(await this.smallBody(ctx));
        const rs = (body as Record<string, unknown> | undefined)?.['readStatus'];
        if (rs !== undefined && rs !== 'Read' && rs !== 'Unread') throw invalidParameter('readStatus');
        this.store.update(fax, rs === undefined ? {} : { readStatus: rs });
        return sendJson(res, 200, toRecord(fax, this.url), h);
      }
      case 'getContent': {
        this.checkOwner(ctx);
        const fax = this.findFax(ctx);
        const att = fax.attachments.find((a) => String(a.id) === ctx.params[3]);
        if (!att) throw notFound('attachmentId');
        res.writeHead(200, {
          ...h,
          'Content-Type': att.contentType,
          'Content-Length': String(att.size),
          'Content-Disposition': `inline; filename="${att.filename}"`,
        });
        res.end(att.body);
        return;
      }
      case 'messageSync':
        this.checkOwner(ctx);
        return sendJson(res, 200, this.messageSync(ctx), h);
      case 'getExtension':
        this.checkOwner(ctx);
        return sendJson(res, 200, this.extensionInfo(ctx.user), h);
      case 'createSubscription': {
        const body = parseJsonBody(await this.smallBody(ctx));
        const s = await this.webhooks.create(ctx.user, body);
        return sendJson(res, 200, this.webhooks.record(s), h);
      }
      case 'listSubscriptions':
        return sendJson(
          res,
          200,
          {
            uri: `${this.url}/restapi/v1.0/subscription`,
            records: this.webhooks.list(ctx.user).map((s) => this.webhooks.record(s)),
          },
          h,
        );
      case 'getSubscription':
        return sendJson(res, 200, this.webhooks.record(this.webhooks.get(ctx.user, ctx.params[0] ?? '')), h);
      case 'updateSubscription': {
        const s = this.webhooks.get(ctx.user, ctx.params[0] ?? '');
        const body = parseJsonBody(await this.smallBody(ctx));
        return sendJson(res, 200, this.webhooks.record(await this.webhooks.update(s, body ?? {})), h);
      }
      case 'deleteSubscription': {
        this.webhooks.remove(this.webhooks.get(ctx.user, ctx.params[0] ?? ''));
        return sendEmpty(res, 204, h);
      }
      case 'renewSubscription': {
        const s = this.webhooks.renew(this.webhooks.get(ctx.user, ctx.params[0] ?? ''));
        return sendJson(res, 200, this.webhooks.record(s), h);
      }
      default:
        throw notFound('path');
    }
  }

  private async smallBody(ctx: Ctx): Promise<Buffer> {
    const r = await readBody(ctx.req, SMALL_BODY_CAP);
    if (!r.ok) throw new ApiError(413, 'CMN-101', `Request body exceeds ${SMALL_BODY_CAP} bytes`);
    return r.body;
  }

  private findFax(ctx: Ctx): Fax {
    const raw = ctx.params[2] ?? '';
    if (!/^\d{1,16}$/.test(raw)) throw notFound('messageId');
    const fax = this.store.get(ctx.user, Number(raw));
    if (!fax) throw notFound('messageId');
    return fax;
  }

  private async sendFax(ctx: Ctx): Promise<void> {
    const { req, res, user } = ctx;
    const r = await readBody(req, MAX_FAX_BODY_BYTES);
    if (!r.ok) {
      sendError(res, messageTooLarge(MAX_TOTAL_ATTACHMENT_BYTES), {
        ...ctx.rateHeaders,
        Connection: 'close',
      });
      return;
    }
    const now = this.scheduler.now();
    const parsed = parseFaxRequest(req.headers['content-type'], r.body, now, () =>
      this.store.newAttachmentId(),
    );
    let fax: Fax;
    if (parsed.originalMessageId !== undefined) {
      const orig = this.store.get(user, parsed.originalMessageId);
      if (!orig) throw invalidParameter('originalMessageId');
      if (orig.messageStatus !== 'SendingFailed' && orig.messageStatus !== 'DeliveryFailed')
        throw new ApiError(
          406,
          'MSG-343',
          `Resend is not allowed for a message in status [${orig.messageStatus}]`,
          'originalMessageId',
        );
      const failed = orig.recipients.filter(
        (x) => x.messageStatus === 'SendingFailed' || x.messageStatus === 'DeliveryFailed',
      );
      fax = this.store.create({
        user,
        recipients:
          parsed.recipients ??
          failed.map((x) =>
            x.name !== undefined
              ? { phoneNumber: x.phoneNumber, name: x.name }
              : { phoneNumber: x.phoneNumber },
          ),
        faxResolution: orig.faxResolution,
        coverIndex: orig.coverIndex,
        coverPageText: orig.coverPageText,
        sendTime: parsed.sendTime,
        attachments: orig.attachments.map((a) => ({ ...a, id: this.store.newAttachmentId() })),
        resendOf: orig.id,
      });
    } else {
      if (parsed.recipients === undefined) throw invalidParameter('to');
      if (parsed.attachments.length === 0 && parsed.coverIndex === 0)
        throw invalidParameter(
          'attachment',
          'Nothing to send: no attachments and no cover page (coverIndex 0)',
        );
      fax = this.store.create({
        user,
        recipients: parsed.recipients,
        faxResolution: parsed.faxResolution,
        coverIndex: parsed.coverIndex ?? (parsed.attachments.length === 0 ? 1 : 0),
        coverPageText: parsed.coverPageText,
        sendTime: parsed.sendTime,
        attachments: parsed.attachments,
      });
    }
    this.stats.faxesAccepted++;
    if (this.faults.appliesTo('Heavy') && this.faults.roll(this.faults.config.ambiguousSendRate)) {
      // the fax is accepted and will transmit, but the client never hears about it
      this.store.markAmbiguous(fax);
      this.stats.ambiguousSends++;
      req.socket.destroy();
      return;
    }
    sendJson(res, 200, toRecord(fax, this.url), ctx.rateHeaders);
  }

  private listMessages(ctx: Ctx): unknown {
    const q = ctx.url.searchParams;
    const now = this.scheduler.now();
    const date = (name: string, dflt: number): number => {
      const v = q.get(name);
      if (v === null || v === '') return dflt;
      const t = Date.parse(v);
      if (Number.isNaN(t)) throw invalidParameter(name);
      return t;
    };
    const int = (name: string, dflt: number, min: number, max: number): number => {
      const v = q.get(name);
      if (v === null || v === '') return dflt;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max)
        throw invalidParameter(name, `Parameter [${name}] must be an integer ${min}..${max}`);
      return n;
    };
    const multi = (name: string): string[] | undefined => {
      const all = q
        .getAll(name)
        .flatMap((v) => v.split(','))
        .filter((v) => v !== '');
      return all.length > 0 ? all : undefined;
    };
    const query: ListQuery = { dateFrom: date('dateFrom', now - DAY_MS), dateTo: date('dateTo', now + 1) };
    const direction = multi('direction');
    if (direction) {
      for (const d of direction) if (d !== 'Inbound' && d !== 'Outbound') throw invalidParameter('direction');
      query.direction = direction;
    }
    const messageType = multi('messageType');
    if (messageType) {
      for (const t of messageType)
        if (!['Fax', 'SMS', 'VoiceMail', 'Pager', 'Text'].includes(t)) throw invalidParameter('messageType');
      query.messageType = messageType;
    }
    const availability = multi('availability');
    if (availability) {
      for (const a of availability)
        if (!['Alive', 'Deleted', 'Purged'].includes(a)) throw invalidParameter('availability');
      query.availability = availability;
    }
    const readStatus = multi('readStatus');
    if (readStatus) query.readStatus = readStatus;
    const phone = q.get('phoneNumber');
    if (phone !== null && phone !== '') query.phoneNumber = phone;
    const page = int('page', 1, 1, 1_000_000);
    const perPage = int('perPage', 100, 1, 1000);
    const all = this.store.list(ctx.user, query);
    const totalElements = all.length;
    const totalPages = Math.ceil(totalElements / perPage);
    const start = (page - 1) * perPage;
    const records = all.slice(start, start + perPage).map((f) => toRecord(f, this.url));
    const base = `${this.url}${ctx.url.pathname}`;
    const pageUri = (p: number): { uri: string } => {
      const u = new URLSearchParams(q);
      u.set('page', String(p));
      u.set('perPage', String(perPage));
      return { uri: `${base}?${u.toString()}` };
    };
    const paging: Record<string, number> = { page, totalPages, perPage, totalElements };
    if (records.length > 0) {
      paging['pageStart'] = start;
      paging['pageEnd'] = start + records.length - 1;
    }
    const navigation: Record<string, { uri: string }> = { firstPage: pageUri(1) };
    if (page < totalPages) navigation['nextPage'] = pageUri(page + 1);
    if (page > 1) navigation['previousPage'] = pageUri(page - 1);
    navigation['lastPage'] = pageUri(Math.max(1, totalPages));
    return { uri: `${base}${ctx.url.search}`, records, paging, navigation };
  }

  private messageSync(ctx: Ctx): unknown {
    const q = ctx.url.searchParams;
    const syncType = q.get('syncType') ?? 'FSync';
    const now = this.scheduler.now();
    const tokenFor = (seq: number): string =>
      Buffer.from(JSON.stringify({ s: seq, e: ctx.user.extensionId })).toString('base64url');
    const recordCount = Number(q.get('recordCount') ?? '250');
    if (!Number.isInteger(recordCount) || recordCount < 1 || recordCount > 250)
      throw invalidParameter('recordCount');
    const types = q.getAll('messageType');
    const wantFax = types.length === 0 || types.includes('Fax');
    let faxes: Fax[];
    let older = false;
    if (syncType === 'FSync') {
      const dateFromRaw = q.get('dateFrom');
      const dateFrom = dateFromRaw === null ? now - 30 * DAY_MS : Date.parse(dateFromRaw);
      if (Number.isNaN(dateFrom)) throw invalidParameter('dateFrom');
      const all = wantFax ? this.store.list(ctx.user, { dateFrom, dateTo: now + 1 }) : [];
      faxes = all.slice(0, recordCount);
      older = all.length > recordCount;
    } else if (syncType === 'ISync') {
      const raw = q.get('syncToken');
      let since: number | undefined;
      try {
        const t = JSON.parse(Buffer.from(raw ?? '', 'base64url').toString('utf8')) as {
          s?: unknown;
          e?: unknown;
        };
        if (typeof t.s === 'number' && t.e === ctx.user.extensionId) since = t.s;
      } catch {
        since = undefined;
      }
      if (since === undefined) throw invalidParameter('syncToken');
      // ISync also returns deleted and purged messages so clients can drop them
      faxes = wantFax ? this.store.changedSince(ctx.user, since) : [];
    } else {
      throw invalidParameter('syncType');
    }
    return {
      uri: `${this.url}${ctx.url.pathname}${ctx.url.search}`,
      records: faxes.map((f) => toRecord(f, this.url)),
      syncInfo: {
        syncType,
        syncToken: tokenFor(this.store.currentSeq),
        syncTime: iso(now),
        olderRecordsExist: older,
      },
    };
  }

  private extensionInfo(user: ResolvedUser): unknown {
    return {
      uri: `${this.url}/restapi/v1.0/account/${user.accountId}/extension/${user.extensionId}`,
      id: Number(user.extensionId),
      extensionNumber: String(101 + this.opts.users.indexOf(user)),
      name: user.name,
      type: 'User',
      status: 'Enabled',
      contact: {
        firstName: user.name,
        email: `ext${user.extensionId}@sim.invalid`,
        businessPhone: user.phoneNumber,
      },
      account: { id: user.accountId, uri: `${this.url}/restapi/v1.0/account/${user.accountId}` },
      permissions: { admin: { enabled: false }, internationalCalling: { enabled: true } },
    };
  }
}

function clientKey(authorization: string | undefined, body: Buffer): string | undefined {
  if (authorization !== undefined && /^basic\s/i.test(authorization)) {
    const decoded = Buffer.from(authorization.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    return `client:${decoded.split(':')[0] ?? ''}`;
  }
  const id = new URLSearchParams(body.toString('utf8')).get('client_id');
  return id !== null ? `client:${id}` : undefined;
}
