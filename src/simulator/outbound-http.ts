/**
 * Minimal outbound HTTP POST for webhook handshakes and notifications: no keep-alive (so nothing
 * lingers after close()), a hard timeout, a cap on the response size, and cancel-all on close.
 */
import http from 'node:http';
import https from 'node:https';

export interface OutboundResult {
  ok: boolean;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  error?: string;
}

export class OutboundHttp {
  private readonly inflight = new Set<http.ClientRequest>();
  private closed = false;

  post(
    url: string,
    headers: Record<string, string>,
    body: string,
    timeoutMs: number,
    maxResponseBytes = 64 * 1024,
  ): Promise<OutboundResult> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ ok: false, status: 0, headers: {}, body: '', error: 'invalid URL' });
        return;
      }
      if (this.closed) {
        resolve({ ok: false, status: 0, headers: {}, body: '', error: 'simulator closed' });
        return;
      }
      const lib = target.protocol === 'https:' ? https : http;
      let settled = false;
      const done = (r: OutboundResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(req);
        resolve(r);
      };
      const payload = Buffer.from(body);
      const req = lib.request(
        target,
        {
          method: 'POST',
          agent: false,
          headers: { ...headers, 'Content-Length': String(payload.length), Connection: 'close' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= maxResponseBytes) chunks.push(c);
          });
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            done({
              ok: status >= 200 && status < 300,
              status,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              ...(size > maxResponseBytes ? { error: `response larger than ${maxResponseBytes} bytes` } : {}),
            });
          });
          res.on('error', (e) =>
            done({
              ok: false,
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: '',
              error: e.message,
            }),
          );
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        done({ ok: false, status: 0, headers: {}, body: '', error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.inflight.add(req);
      req.on('error', (e) => done({ ok: false, status: 0, headers: {}, body: '', error: e.message }));
      req.end(payload);
    });
  }

  abortAll(): void {
    for (const r of this.inflight) r.destroy();
    this.inflight.clear();
  }

  close(): void {
    this.closed = true;
    this.abortAll();
  }
}
