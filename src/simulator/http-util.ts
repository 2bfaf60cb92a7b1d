/** Small HTTP helpers: bounded body reading and RingCentral-style JSON answers. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, OAuthError } from './errors';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; received: number };

/**
 * Read the whole request body. Past `cap` bytes the data is drained and discarded (so the client can
 * still read our answer) and the result says the body was too large; past 4x the cap the connection
 * is cut.
 */
export function readBody(req: IncomingMessage, cap: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > cap;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else {
        chunks.length = 0;
        if (size > cap * 4) {
          req.destroy();
          resolve({ ok: false, received: size });
        }
      }
    });
    req.on('end', () => {
      if (tooLarge) resolve({ ok: false, received: size });
      else
        resolve({
          ok: true,
          body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
        });
    });
    req.on('error', () => resolve({ ok: false, received: size }));
    req.on('close', () => {
      if (!req.complete) resolve({ ok: false, received: size });
    });
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(payload.length),
    RCRequestId: randomUUID(),
    ...headers,
  });
  res.end(payload);
}

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = Buffer.from(html);
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': String(payload.length),
    'Cache-Control': 'no-store',
    RCRequestId: randomUUID(),
    ...headers,
  });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Length': '0', RCRequestId: randomUUID(), ...headers });
  res.end();
}

export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): number {
  if (err instanceof ApiError) {
    sendJson(res, err.status, err.body(), { ...headers, ...err.headers });
    return err.status;
  }
  if (err instanceof OAuthError) {
    sendJson(res, err.status, err.body(), headers);
    return err.status;
  }
  const e = new ApiError(
    500,
    'CMN-500',
    `Internal simulator error: ${err instanceof Error ? err.message : String(err)}`,
  );
  sendJson(res, 500, e.body(), headers);
  return 500;
}

export function parseJsonBody(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new ApiError(400, 'CMN-103', `Request body is not valid JSON: ${(e as Error).message}`);
  }
}
