/** A webhook receiver for tests: records every request and answers as configured. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** notifications only (requests without a Validation-Token) */
  notifications(): Array<Received & { json: Record<string, unknown> }>;
  behaviour: {
    echo: boolean;
    status: number;
    delayMs: number;
    validationBody: string;
  };
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const behaviour = { echo: true, status: 200, delayMs: 0, validationBody: '' };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const token = req.headers['validation-token'];
      const answer = (): void => {
        if (res.destroyed) return;
        const headers: Record<string, string> = {};
        if (typeof token === 'string' && behaviour.echo) headers['Validation-Token'] = token;
        res.writeHead(behaviour.status, headers);
        res.end(typeof token === 'string' ? behaviour.validationBody : '');
      };
      if (behaviour.delayMs > 0) setTimeout(answer, behaviour.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    behaviour,
    notifications: () =>
      received
        .filter((r) => r.headers['validation-token'] === undefined)
        .map((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
