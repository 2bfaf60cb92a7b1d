import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { MAX_TOTAL_BYTES } from '../validation/limits';

/**
 * How long and how much the API goes on reading (and dropping) a request body it has already
 * refused. The client has not seen the answer yet and keeps sending for at least a round trip, often
 * until its own buffers fill; closing a socket with unread data makes the kernel send a reset, and a
 * reset can reach the client before it has read the answer (it then sees ECONNRESET or EPIPE instead
 * of the 413). nginx's `lingering_close` does the same, with the same three bounds.
 */
export interface LingerBounds {
  /** The longest a refused request is read on: a client that trickles bytes (slow loris) is cut here. */
  maxMs: number;
  /** Closed after this long without a byte: a client that read the answer has stopped by then. */
  idleMs: number;
  /** Closed after dropping this many body bytes: one that ignores the answer is not read forever. */
  maxBytes: number;
}

export const LINGER_BOUNDS: Readonly<LingerBounds> = {
  // 10 s lets a client on a slow link read the answer and stop; longer only holds sockets for nothing.
  maxMs: 10_000,
  // nginx waits 5 s (lingering_timeout); a client that goes quiet has read the answer or stalled.
  idleMs: 2_000,
  // Twice the largest upload (50 MB of documents): at 100 Mbit/s that is ~8 s, under `maxMs`, and
  // far more than any client sends between our answer and reading it.
  maxBytes: 2 * MAX_TOTAL_BYTES,
};

/**
 * Answers errors to requests whose body is still arriving (a 413 while streaming, 401/405/415
 * before the body was read) with `Connection: close` and a lingering close: once the answer is
 * written, the socket's sending side is closed (the client sees the whole answer and its end) and the
 * rest of the body is read and dropped until the client has sent it all or closes, or a bound of
 * `bounds` is hit; only then is the socket closed. Such connections are never kept alive: reading a
 * refused body to its end to reuse the connection would be unbounded.
 *
 * One `onSend` hook at the root covers every error path (the error handler, 404s, framework errors).
 */
export function installLingeringClose(app: FastifyInstance, bounds: Partial<LingerBounds> = {}): void {
  const limits: LingerBounds = { ...LINGER_BOUNDS, ...bounds };
  const lingering = new Set<Socket>();

  app.addHook('onSend', async (request, reply, payload) => {
    const req = request.raw;
    if (reply.statusCode < 400 || !(await bodyStillArriving(req))) return payload;
    void reply.header('connection', 'close');
    // app.inject's requests have no real socket; there is nothing to linger on.
    const socket = req.socket as Socket | null | undefined;
    if (socket && typeof socket.destroySoon === 'function' && !lingering.has(socket)) {
      armLingeringClose(req, socket, limits, lingering, request.log);
    }
    return payload;
  });

  // Lingering sockets have been answered: they must not hold the server's close up for `maxMs`.
  app.addHook('preClose', async () => {
    for (const socket of lingering) socket.destroy();
  });
}

/** True while `req` has body bytes still to come; never for app.inject (nothing arrives there). */
async function bodyStillArriving(req: IncomingMessage): Promise<boolean> {
  const declared = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (declared === undefined || declared === '0')) {
    return false;
  }
  // `complete` is undefined under app.inject.
  if (req.complete !== false) return false;
  // An answer given at once (a 401 thrown before any await) runs while Node is still parsing the
  // packet the request came in: a small body in that packet is complete once the packet is done.
  await new Promise((resolve) => setImmediate(resolve));
  return !req.complete;
}

/**
 * Starts dropping the rest of the body now (so that Node does not `_dump()` it at the end of the answer,
 * which drops bytes without a trace: the bounds need to see them) and takes over the socket's close.
 * Node closes a `Connection: close` response's socket with `socket.destroySoon()` once the answer is
 * written (the only hook it offers there), which would destroy it with the unread body in it: this
 * socket's `destroySoon` half-closes and lingers instead.
 */
function armLingeringClose(
  req: IncomingMessage,
  socket: Socket,
  limits: LingerBounds,
  lingering: Set<Socket>,
  log: FastifyBaseLogger,
): void {
  const destroySoon = socket.destroySoon.bind(socket);
  let drained = 0;
  let done = false;
  const timers: NodeJS.Timeout[] = [];
  const finish = (reason: string, hard: boolean): void => {
    if (done) return;
    done = true;
    for (const t of timers) clearTimeout(t);
    req.off('data', onData);
    lingering.delete(socket);
    const cut = reason === 'max-time' || reason === 'max-bytes';
    // A cut is worth seeing (a client that ignores early answers); the other ends are routine.
    if (cut) log.info({ reason, drainedBytes: drained }, 'lingering close cut a client that kept sending');
    else log.debug({ reason, drainedBytes: drained }, 'lingering close ended');
    // A hard cut may reset a client that is still sending: it has had the answer for a while.
    if (hard) socket.destroy();
    else destroySoon();
  };
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > limits.maxBytes) finish('max-bytes', true);
    else timers[0]?.refresh();
  };

  lingering.add(socket);
  socket.once('close', () => finish('closed', true));
  // Dropped as it comes, never buffered; a multipart parser still reading it is detached.
  req.unpipe();
  req.on('data', onData);
  req.resume();

  socket.destroySoon = () => {
    if (done) {
      destroySoon();
      return;
    }
    // The answer is written: the body complete, or the client gone, there is nothing to wait for.
    if (req.readableEnded || req.destroyed) {
      finish('body-complete', false);
      return;
    }
    // FIN after the answer: the client has all of it while we go on reading.
    socket.end();
    timers.push(
      setTimeout(() => finish('idle', false), limits.idleMs).unref(),
      setTimeout(() => finish('max-time', true), limits.maxMs).unref(),
    );
    // The client has sent its whole body, or has closed its side.
    req.once('end', () => finish('body-complete', false));
    socket.once('end', () => finish('client-end', false));
  };
}
