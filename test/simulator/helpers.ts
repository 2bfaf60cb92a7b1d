/** Shared helpers for the simulator tests: start/stop, login, fax sends, polling, documents. */
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterEach, beforeEach } from 'vitest';
import {
  startSimulator,
  type SimFax,
  type SimulatorHandle,
  type SimulatorOptions,
} from '../../src/simulator/index';
import { MessageRecord } from './schemas';

export const FAX_PATH = '/restapi/v1.0/account/~/extension/~/fax';
export const STORE_PATH = '/restapi/v1.0/account/~/extension/~/message-store';
export const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export async function start(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ timeScale: 0.002, ...opts });
}

export function basicAuth(sim: SimulatorHandle, secret = sim.credentials.clientSecret): string {
  return `Basic ${Buffer.from(`${sim.credentials.clientId}:${secret}`).toString('base64')}`;
}

export async function tokenRequest(
  sim: SimulatorHandle,
  form: Record<string, string>,
  authorization: string | null = basicAuth(sim),
): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (authorization !== null) headers['Authorization'] = authorization;
  return fetch(`${sim.url}/restapi/oauth/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(form),
  });
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
}

export async function login(sim: SimulatorHandle, extra: Record<string, string> = {}): Promise<Tokens> {
  const r = await tokenRequest(sim, { grant_type: JWT_GRANT, assertion: sim.credentials.jwt, ...extra });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return (await r.json()) as Tokens;
}

export function api(sim: SimulatorHandle, token: string) {
  const call = (
    method: string,
    path: string,
    body?: RequestInit['body'],
    headers: Record<string, string> = {},
  ): Promise<Response> =>
    fetch(`${sim.url}${path}`, { method, headers: { Authorization: `Bearer ${token}`, ...headers }, body });
  return {
    get: (path: string) => call('GET', path),
    del: (path: string) => call('DELETE', path),
    post: (path: string, body?: RequestInit['body'], headers?: Record<string, string>) =>
      call('POST', path, body, headers),
    postJson: (path: string, body: unknown) =>
      call('POST', path, JSON.stringify(body), { 'Content-Type': 'application/json' }),
    put: (path: string, body: unknown) =>
      call('PUT', path, JSON.stringify(body), { 'Content-Type': 'application/json' }),
    call,
  };
}

export interface Doc {
  filename: string;
  body: Uint8Array | string;
  contentType?: string;
}

/** The multipart/form-data body the official sample builds: a `json` part then `attachment` parts. */
export function faxForm(envelope: unknown, docs: Doc[]): FormData {
  const fd = new FormData();
  fd.append('json', new Blob([JSON.stringify(envelope)], { type: 'application/json' }), 'request.json');
  for (const d of docs) {
    fd.append(
      'attachment',
      new Blob([d.body], { type: d.contentType ?? 'application/octet-stream' }),
      d.filename,
    );
  }
  return fd;
}

export async function sendFax(
  sim: SimulatorHandle,
  token: string,
  to: string | string[],
  docs: Doc[] = [{ filename: 'doc.txt', body: 'hello', contentType: 'text/plain' }],
  extra: Record<string, unknown> = {},
): Promise<Response> {
  const numbers = Array.isArray(to) ? to : [to];
  return api(sim, token).post(
    FAX_PATH,
    // coverIndex 0 as faxflow sends it: omitting it adds the account's default cover page
    faxForm({ to: numbers.map((phoneNumber) => ({ phoneNumber })), coverIndex: 0, ...extra }, docs),
  );
}

export async function pdf(pages: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 0; i < pages; i++)
    doc.addPage([612, 792]).drawText(`page ${i + 1}`, { x: 50, y: 700, font, size: 12 });
  return doc.save();
}

/** A hand-built multipart body (for multipart/mixed and malformed variants). */
export function rawMultipart(
  boundary: string,
  parts: Array<{ headers: string[]; body: string | Uint8Array }>,
  close = true,
): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`));
    chunks.push(Buffer.from(p.body));
    chunks.push(Buffer.from('\r\n'));
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export async function waitFor<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await fn();
  }
  return last;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function simFaxes(sim: SimulatorHandle): Promise<SimFax[]> {
  const r = await fetch(`${sim.url}/_sim/faxes`);
  return ((await r.json()) as { faxes: SimFax[] }).faxes;
}

export type Rec = ReturnType<typeof MessageRecord.parse>;

export async function getRecord(sim: SimulatorHandle, token: string, id: number): Promise<Rec> {
  const r = await api(sim, token).get(`${STORE_PATH}/${id}`);
  if (r.status !== 200) throw new Error(`GET ${id}: ${r.status} ${await r.text()}`);
  return MessageRecord.parse(await r.json());
}

export interface SimContext {
  sim: SimulatorHandle;
  /** an access token of the default user (empty when login is off) */
  token: string;
  /** replace the running simulator by one started with other options (closed after the test as usual) */
  restart(opts: SimulatorOptions, withLogin?: boolean): Promise<void>;
}

/**
 * The one set-up of the simulator tests: a fresh simulator (and a logged-in token) before each test,
 * closed after it. Read `ctx.sim` / `ctx.token` inside the tests.
 */
export function useSim(opts: SimulatorOptions = {}, { login: withLogin = true } = {}): SimContext {
  const ctx: SimContext = {
    sim: undefined as unknown as SimulatorHandle,
    token: '',
    restart: async (other, again = withLogin) => {
      await ctx.sim.close();
      ctx.sim = await start(other);
      ctx.token = again ? (await login(ctx.sim)).access_token : '';
    },
  };
  beforeEach(async () => {
    ctx.sim = await start(opts);
    ctx.token = withLogin ? (await login(ctx.sim)).access_token : '';
  });
  afterEach(async () => {
    await ctx.sim.close();
  });
  return ctx;
}
