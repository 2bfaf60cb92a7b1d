/** The simulator's HTTP server: routing, authentication, injected faults and rate limits, then the handlers. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SMALL_BODY_CAP, type Ctx } from './api-context';
import { handleApi } from './api-handlers';
import { clientKey, handleAuthRoute } from './auth-routes';
import { Scheduler } from './clock';
import { ApiError, OAuthError, rateExceeded, serviceUnavailable } from './errors';
import { FaxStore } from './fax-store';
import { Faults } from './faults';
import { readBody, sendError } from './http-util';
import { OAuthServer } from './oauth';
import { resolveOptions, type ResolvedOptions, type ResolvedUser, type SimulatorOptions } from './options';
import { OutboundHttp } from './outbound-http';
import { RateLimiter } from './rate-limits';
import { matchRoute } from './routes';
import { scenarioFaults } from './scenarios';
import { handleSimControl } from './sim-control';
import { Stats } from './stats';
import { Webhooks } from './webhooks';

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
    if (options.scenario !== undefined) this.faults.set(scenarioFaults(options.scenario));
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
      this.opts.maxSubscriptionsPerUser,
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
      sendError(res, methodNotAllowed(method, path), { Allow: m.allowed.join(', ') });
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
      key = `${this.opts.clientId}|${user.accountId}|${user.extensionId}`;
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
    const unavailable = (): void => {
      this.stats.injected503++;
      sendError(res, serviceUnavailable(faults.retryAfter503), this.limiter.peek(route.group, key));
    };
    if (route.handler === 'token' && this.faults.takeToken503()) return unavailable();
    if (this.faults.appliesTo(route.group)) {
      if (faults.latencyMs > 0) await this.scheduler.sleepReal(faults.latencyMs);
      if (this.faults.roll(faults.error503Rate)) return unavailable();
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
        await handleAuthRoute(this, route, req, res, url, body ?? Buffer.alloc(0), decision.headers);
        return;
      }
      const ctx: Ctx = {
        sim: this,
        req,
        res,
        url,
        route,
        params,
        user: user as ResolvedUser,
        rateHeaders: decision.headers,
      };
      await handleApi(ctx);
    } catch (e) {
      sendError(res, e, decision.headers);
    }
  }
}

/**
 * A known path with a method it does not serve: HTTP 405 with Allow. RingCentral's CMN-405 means
 * "Login to extension required" (docs/basics/errors.md), so a client would take it for an auth
 * failure; CMN-202 "Operation is not supported" is the documented code with the right meaning.
 */
function methodNotAllowed(method: string, path: string): ApiError {
  return new ApiError(405, 'CMN-202', `Operation is not supported: ${method} ${path}`);
}
