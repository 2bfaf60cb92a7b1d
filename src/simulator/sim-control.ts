/**
 * The /_sim control API (not part of RingCentral): inspect accepted faxes, reset state, configure
 * faults, read counters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, notFound } from './errors';
import type { Fax } from './fax-store';
import { FaultConfigSchema } from './faults';
import { parseJsonBody, readBody, sendError, sendJson } from './http-util';
import { iso } from './message-record';
import { canonicalNumber } from './outcomes';
import { scenarioFaults, scenarioStatusModel } from './scenarios';
import type { Simulator } from './server';
import { handleUserControl } from './sim-users';

export interface SimFax {
  id: number;
  accountId: string;
  extensionId: string;
  createdAt: string;
  lastModifiedTime: string;
  sendTime: string | null;
  messageStatus: string;
  availability: string;
  faxPageCount: number;
  faxResolution: string;
  coverIndex: number;
  /** coverIndex was omitted, so the account's default cover page was added */
  defaultCover: boolean;
  coverPageText: string | null;
  resendOf: number | null;
  statusModel: string;
  /** deleted before transmission: never transmitted */
  cancelled: boolean;
  /** the client's connection was cut before the answer (fault injection) */
  ambiguous: boolean;
  recipients: Array<{
    phoneNumber: string;
    name: string | null;
    messageStatus: string;
    faxErrorCode: string | null;
  }>;
  attachments: Array<{
    filename: string;
    contentType: string;
    declaredContentType: string | null;
    size: number;
    sha256: string;
  }>;
  history: Array<{ status: string; at: string; faxErrorCode: string | null }>;
  recipientHistory: Array<{ phoneNumber: string; status: string; at: string; faxErrorCode: string | null }>;
}

export function simFax(f: Fax): SimFax {
  return {
    id: f.id,
    accountId: f.user.accountId,
    extensionId: f.user.extensionId,
    createdAt: iso(f.creationTime),
    lastModifiedTime: iso(f.lastModifiedTime),
    sendTime: f.sendTime !== undefined ? iso(f.sendTime) : null,
    messageStatus: f.messageStatus,
    availability: f.availability,
    faxPageCount: f.faxPageCount,
    faxResolution: f.faxResolution,
    coverIndex: f.coverIndex,
    defaultCover: f.defaultCover,
    coverPageText: f.coverPageText ?? null,
    resendOf: f.resendOf ?? null,
    statusModel: f.statusModel,
    cancelled: f.cancelled,
    ambiguous: f.ambiguous,
    recipients: f.recipients.map((r) => ({
      phoneNumber: r.phoneNumber,
      name: r.name ?? null,
      messageStatus: r.messageStatus,
      faxErrorCode: r.faxErrorCode ?? null,
    })),
    attachments: f.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      declaredContentType: a.declaredContentType ?? null,
      size: a.size,
      sha256: a.sha256,
    })),
    history: f.history.map((h) => ({ status: h.status, at: h.at, faxErrorCode: h.faxErrorCode ?? null })),
    recipientHistory: f.recipientHistory.map((h) => ({
      phoneNumber: h.phoneNumber ?? '',
      status: h.status,
      at: h.at,
      faxErrorCode: h.faxErrorCode ?? null,
    })),
  };
}

export async function handleSimControl(
  sim: Simulator,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  path: string,
  url: URL,
): Promise<void> {
  try {
    if (
      path.startsWith('/_sim/users') ||
      path.startsWith('/_sim/accounts') ||
      /^\/_sim\/subscriptions\/[^/]+\/suspend$/.test(path)
    ) {
      await handleUserControl(sim, req, res, method, path);
      return;
    }
    const key = `${method} ${path.replace(/\/\d+$/, '/{id}')}`;
    switch (key) {
      case 'GET /_sim/health':
        return sendJson(res, 200, { ok: true, url: sim.url, timeScale: sim.opts.timeScale });
      case 'GET /_sim/faxes': {
        const to = url.searchParams.get('to');
        let faxes = sim.store.all();
        if (to !== null)
          faxes = faxes.filter((f) =>
            f.recipients.some((r) => canonicalNumber(r.phoneNumber) === canonicalNumber(to)),
          );
        return sendJson(res, 200, { faxes: faxes.map(simFax) });
      }
      case 'GET /_sim/faxes/{id}': {
        const id = Number(path.slice(path.lastIndexOf('/') + 1));
        const fax = sim.store.getAny(id);
        if (!fax) throw notFound('messageId');
        return sendJson(res, 200, simFax(fax));
      }
      case 'POST /_sim/reset': {
        await readBody(req, 64 * 1024);
        sim.reset(url.searchParams.get('sessions') === 'true');
        return sendJson(res, 200, { ok: true });
      }
      case 'GET /_sim/rate-limits':
        return sendJson(res, 200, { now: sim.scheduler.now(), buckets: sim.limiter.snapshot() });
      case 'GET /_sim/faults':
        return sendJson(res, 200, sim.faults.config);
      case 'POST /_sim/faults': {
        const r = await readBody(req, 64 * 1024);
        if (!r.ok) throw new ApiError(413, 'CMN-101', 'Body too large');
        const parsed = FaultConfigSchema.safeParse(parseJsonBody(r.body) ?? {});
        if (!parsed.success)
          throw new ApiError(400, 'CMN-101', `Invalid fault configuration: ${parsed.error.message}`);
        sim.faults.set(parsed.data);
        return sendJson(res, 200, sim.faults.config);
      }
      case 'POST /_sim/scenario': {
        const r = await readBody(req, 64 * 1024);
        const name = r.ok ? (parseJsonBody(r.body) as { name?: unknown } | undefined)?.name : undefined;
        if (typeof name !== 'string')
          throw new ApiError(400, 'CMN-101', 'Body must be {"name": "<scenario>"}', 'name');
        let faults;
        try {
          faults = scenarioFaults(name);
        } catch (e) {
          throw new ApiError(400, 'CMN-101', (e as Error).message, 'name');
        }
        sim.faults.set(faults);
        const model = scenarioStatusModel(name);
        if (model !== undefined) for (const u of sim.opts.users) u.statusModel = model;
        return sendJson(res, 200, { faults: sim.faults.config, statusModel: model ?? null });
      }
      case 'GET /_sim/stats':
        return sendJson(res, 200, {
          ...sim.stats.toJSON(),
          faxes: sim.store.all().length,
          liveSessions: sim.oauth.liveSessions(),
          pendingTimers: sim.scheduler.pending,
          subscriptions: sim.webhooks.all().length,
        });
      case 'GET /_sim/subscriptions':
        return sendJson(res, 200, {
          subscriptions: sim.webhooks.all().map((s) => ({
            ...sim.webhooks.record(s),
            extensionId: s.user.extensionId,
            consecutiveFailures: s.consecutiveFailures,
          })),
        });
      case 'GET /_sim/webhook-deliveries':
        return sendJson(res, 200, { deliveries: sim.webhooks.deliveries() });
      default:
        throw new ApiError(404, 'CMN-102', `Unknown simulator control path ${method} ${path}`, 'path');
    }
  } catch (e) {
    sendError(res, e);
  }
}
