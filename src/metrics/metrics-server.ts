import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsText, PROMETHEUS_CONTENT_TYPE } from './metrics';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` for a process without an HTTP server of its own (a worker). `extra` appends
 * another exposition to ours: the Temporal SDK's, which its runtime serves on a loopback port, so
 * that one scrape target per worker carries both (their names never clash: Temporal's start with
 * `temporal_`). When `extra` fails, ours is still served.
 */
export async function startMetricsServer(opts: {
  host: string;
  port: number;
  extra?: () => Promise<string>;
}): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metrics');
    if (url.pathname !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: metrics are at /metrics.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Use GET.\n');
      return;
    }
    void (async () => {
      const ours = await metricsText();
      const theirs = opts.extra ? await opts.extra().catch(() => '') : '';
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
      res.end(theirs ? `${ours.trimEnd()}\n${theirs}` : ours);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('Collecting metrics failed.\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`Port ${opts.port} on ${opts.host} is taken; set FAXFLOW_METRICS_PORT to a free port.`)
          : err,
      ),
    );
    server.listen(opts.port, opts.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Reads the Temporal runtime's Prometheus exposition from its loopback address. */
export function temporalMetricsSource(bindAddress: string): () => Promise<string> {
  return async () => {
    const res = await fetch(`http://${bindAddress}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`Temporal metrics answered HTTP ${res.status}`);
    return res.text();
  };
}
