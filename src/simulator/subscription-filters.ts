/** Subscription request validation and event filters: parsing, echoing with numeric ids, matching a fax. */
import { ApiError, invalidParameter } from './errors';
import type { Fax } from './fax-store';
import type { ResolvedUser } from './options';

/** CreateSubscriptionRequest.expiresIn (ringcentral-extensible): WebHook lifetime at most 10 years. */
export const MAX_EXPIRES_IN_S = 315_360_000;

export interface ParsedFilter {
  raw: string;
  account: string;
  extension: string;
  resource: string;
  query: URLSearchParams;
}

export interface SubscriptionSpec {
  eventFilters?: string[];
  address?: string;
  verificationToken?: string;
  expiresIn?: number;
}

const FILTER_RE = /^\/restapi\/v1\.0\/account\/(~|\d+)\/extension\/(~|\d+)\/([a-z-]+(?:\/[a-z-]+)*)(\?.*)?$/;
const SUBSCRIPTION_FILTER_RE = /^\/restapi\/v1\.0\/(account\/(~|\d+)\/)?subscription(\/~)?(\?.*)?$/;

export function parseFilter(raw: string): ParsedFilter {
  const m = FILTER_RE.exec(raw);
  if (!m) return { raw, account: '', extension: '', resource: 'subscription', query: new URLSearchParams() };
  return {
    raw,
    account: m[1] ?? '~',
    extension: m[2] ?? '~',
    resource: m[3] ?? '',
    query: new URLSearchParams((m[4] ?? '').replace(/^\?/, '')),
  };
}

/** RingCentral answers the filters with `~` replaced by the caller's numeric account and extension ids. */
export function resolveFilter(raw: string, user: ResolvedUser): string {
  return raw
    .replace(/^\/restapi\/v1\.0\/account\/~(?=\/|\?|$)/, `/restapi/v1.0/account/${user.accountId}`)
    .replace(/(\/account\/\d+\/extension\/)~(?=\/|\?|$)/, `$1${user.extensionId}`);
}

export function matches(f: ParsedFilter, fax: Fax): boolean {
  if (f.resource !== 'message-store') return false;
  if (f.account !== '~' && f.account !== fax.user.accountId) return false;
  if (f.extension !== '~' && f.extension !== fax.user.extensionId) return false;
  const type = f.query.get('type') ?? f.query.get('messageType');
  if (type !== null && type !== 'Fax') return false;
  const direction = f.query.get('direction');
  if (direction !== null && direction !== 'Outbound') return false;
  return true;
}

export function validateSubscription(body: unknown, creating: boolean): SubscriptionSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalidParameter('body', 'A JSON object is required');
  const b = body as Record<string, unknown>;
  const out: SubscriptionSpec = {};
  if (b['eventFilters'] !== undefined || creating) {
    const f = b['eventFilters'];
    if (!Array.isArray(f) || f.length === 0 || !f.every((x) => typeof x === 'string'))
      throw invalidParameter('eventFilters', 'Parameter [eventFilters] must be a non-empty array of strings');
    const bad = (f as string[]).filter((x) => !FILTER_RE.test(x) && !SUBSCRIPTION_FILTER_RE.test(x));
    if (bad.length > 0) throw new ApiError(400, 'SUB-508', `Invalid event filters: [${bad.join(', ')}]`);
    out.eventFilters = f as string[];
  }
  const dm = b['deliveryMode'];
  if (dm !== undefined || creating) {
    if (dm === null || typeof dm !== 'object' || Array.isArray(dm)) throw invalidParameter('deliveryMode');
    const d = dm as Record<string, unknown>;
    if (d['transportType'] !== 'WebHook')
      throw invalidParameter('deliveryMode.transportType', 'Only transportType WebHook is simulated');
    const address = d['address'];
    let ok = false;
    if (typeof address === 'string') {
      try {
        const u = new URL(address);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
    }
    if (!ok)
      throw invalidParameter(
        'deliveryMode.address',
        'Parameter [deliveryMode.address] must be an http(s) URL',
      );
    out.address = address as string;
    const vt = d['verificationToken'];
    if (vt !== undefined) {
      if (typeof vt !== 'string' || vt.length === 0 || vt.length > 64)
        throw invalidParameter(
          'deliveryMode.verificationToken',
          'verificationToken must be a string of 1..64 characters',
        );
      out.verificationToken = vt;
    }
  }
  const e = b['expiresIn'];
  if (e !== undefined) {
    if (typeof e !== 'number' || !Number.isInteger(e) || e < 1 || e > MAX_EXPIRES_IN_S)
      throw invalidParameter('expiresIn', `Parameter [expiresIn] must be an integer 1..${MAX_EXPIRES_IN_S}`);
    out.expiresIn = e;
  }
  return out;
}
