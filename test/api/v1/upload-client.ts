import http from 'node:http';
import net from 'node:net';

/** A request body offered chunk by chunk, the way a real client uploads a large file. */
export interface StreamedBody {
  headers: Record<string, string>;
  /** Sent before the chunks (e.g. a form's first parts). */
  head?: Buffer;
  chunk: Buffer;
  /** Bytes of chunks offered in all (the upload stops earlier once the server has answered). */
  total: number;
  /** Sent after the chunks, when all of them went out before an answer. */
  tail?: Buffer;
}

export interface UploadOutcome {
  status?: number;
  headers?: http.IncomingHttpHeaders;
  body?: string;
  /** The client's error when it got no complete answer (ECONNRESET, EPIPE, socket hang up...). */
  error?: string;
  /** Body bytes the client had handed to its socket when the answer arrived (or the error came). */
  sentAtAnswer: number;
}

/**
 * Uploads with node:http over a real socket (no Content-Length: chunked) and keeps writing, as fast
 * as the socket takes it, until the server answers; then it stops, reads the answer to its end and
 * closes. This is what curl, browsers and the SDKs do with an upload that the server refuses early:
 * the answer counts only if the client can read it while it is still sending.
 */
export function uploadUntilAnswered(url: URL, body: StreamedBody): Promise<UploadOutcome> {
  return new Promise((resolve) => {
    let sent = 0;
    let answeredAt: number | undefined;
    let settled = false;
    const settle = (outcome: UploadOutcome): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(outcome);
    };
    // A keep-alive agent, as SDKs use: the client asks to keep the connection, the server decides.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const req = http.request(url, { method: 'POST', headers: body.headers, agent });
    req.once('close', () => agent.destroy());
    req.on('response', (res) => {
      answeredAt = sent;
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        settle({
          status: res.statusCode,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          sentAtAnswer: sent,
        }),
      );
      res.on('error', (err: NodeJS.ErrnoException) =>
        settle({ status: res.statusCode, error: err.code ?? err.message, sentAtAnswer: sent }),
      );
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      settle({ error: err.code ?? err.message, sentAtAnswer: answeredAt ?? sent }),
    );
    const pump = (): void => {
      while (answeredAt === undefined && !req.destroyed && sent < body.total) {
        sent += body.chunk.length;
        if (!req.write(body.chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (answeredAt === undefined && !req.destroyed) req.end(body.tail);
    };
    if (body.head) req.write(body.head);
    pump();
  });
}

/** A parsed HTTP/1.1 answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A raw TCP client for what node:http hides: writing on after the answer and after the server's FIN
 * (half-open, like a client that ignores early answers), and the server's FIN itself (`ended`).
 * `sent` counts body bytes written.
 */
export class RawClient {
  readonly socket: net.Socket;
  /** This side's port (kept: a destroyed socket forgets it), to find the server's side. */
  readonly localPort: number;
  sent = 0;
  /** Sent bytes when the answer was complete. */
  sentAtAnswer: number | undefined;
  /** When the answer was complete (performance.now()). */
  answeredAtMs: number | undefined;
  /** The server closed its sending side (after the answer). */
  ended = false;
  error: string | undefined;
  readonly answer: Promise<RawAnswer>;
  readonly closed: Promise<void>;
  private received = Buffer.alloc(0);

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.localPort = socket.localPort ?? -1;
    this.socket.on('error', (err: NodeJS.ErrnoException) => (this.error = err.code ?? err.message));
    this.closed = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('end', () => (this.ended = true));
    this.answer = new Promise((resolve, reject) => {
      const onData = (d: Buffer): void => {
        this.received = Buffer.concat([this.received, d]);
        const parsed = parseAnswer(this.received);
        if (!parsed) return;
        this.socket.off('data', onData);
        this.sentAtAnswer = this.sent;
        this.answeredAtMs = performance.now();
        // Keep reading (and dropping) so that the server's FIN is seen.
        this.socket.resume();
        resolve(parsed);
      };
      this.socket.on('data', onData);
      this.socket.once('close', () =>
        reject(new Error(`closed before an answer (${this.error ?? 'no error'})`)),
      );
    });
    // A rejection nobody awaits (the test asserts on other things) must not fail the run.
    this.answer.catch(() => undefined);
  }

  static async connect(port: number, head: string): Promise<RawClient> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    socket.write(head);
    return client;
  }

  get answered(): boolean {
    return this.answeredAtMs !== undefined;
  }

  /** Closes this side after the writes so far. */
  end(): void {
    this.socket.end();
  }

  /** Writes `chunk` as fast as the socket takes it until the answer is complete or `total` is sent. */
  async writeUntilAnswered(chunk: Buffer, total: number): Promise<void> {
    while (!this.answered && this.sent < total) if (!(await this.write(chunk))) return;
  }

  /** Writes `chunk`, waiting for the socket to drain; false once the socket cannot take more. */
  async write(chunk: Buffer): Promise<boolean> {
    // Let the event loop run between writes that the socket took at once: a loop of such writes
    // would otherwise never see the answer, the server's FIN or a timer.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.sent += chunk.length;
    if (this.socket.write(chunk)) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => (): void => {
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = done(true);
      const onClose = done(false);
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }
}

function parseAnswer(buf: Buffer): RawAnswer | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (buf.length < end + 4 + length) return undefined;
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: buf.subarray(end + 4, end + 4 + length).toString(),
  };
}
