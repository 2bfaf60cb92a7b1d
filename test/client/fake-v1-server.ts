import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { V1Fax } from '../../src/contracts/v1-api';

/**
 * A small stand-in for faxflow's /v1 API implementing the documented shapes (contracts/v1-api.ts),
 * for the HTTP client's tests. Each `GET /v1/faxes/:id` moves a fax one step along its script.
 */
export interface FakeV1 {
  app: FastifyInstance;
  url: string;
  faxes: Map<string, V1Fax>;
  uploads: { filename: string; contentType: string; size: number; sha256: string }[];
  scripts: Map<string, V1Fax['status'][]>;
  requests: { method: string; url: string }[];
  /** Answer the next N requests with 429 and Retry-After: 0. */
  throttleNext(n: number): void;
  close(): Promise<void>;
}

export const API_KEY = 'fxf_test_key';

export async function startFakeV1(): Promise<FakeV1> {
  const app = Fastify({ bodyLimit: 100 * 1024 * 1024 });
  const faxes = new Map<string, V1Fax>();
  const scripts = new Map<string, V1Fax['status'][]>();
  const uploads: FakeV1['uploads'] = [];
  const requests: FakeV1['requests'] = [];
  const idempotency = new Map<string, unknown>();
  let throttle = 0;
  let seq = 0;

  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, body),
  );
  const error = (code: string, message: string) => ({ error: { code, message } });
  app.addHook('onRequest', async (req, reply) => {
    requests.push({ method: req.method, url: req.url });
    if (req.headers.authorization !== `Bearer ${API_KEY}`) {
      return reply.code(401).send(error('UNAUTHENTICATED', 'A valid API key is required.'));
    }
    if (throttle > 0) {
      throttle--;
      return reply.code(429).header('retry-after', '0').send(error('RATE_LIMITED', 'Slow down.'));
    }
  });

  const newFax = (to: string, broadcastId: string | null, docs: V1Fax['documents']): V1Fax => {
    const id = `fax-${++seq}`;
    const self = `/v1/faxes/${id}`;
    const now = new Date().toISOString();
    return {
      object: 'fax',
      id,
      tenantId: 'acme',
      broadcastId,
      status: 'Accepted',
      final: false,
      to,
      recipientName: null,
      pages: 1,
      documents: docs,
      attempts: [],
      nextAction: { kind: 'send', at: null },
      sendAt: null,
      error: null,
      metadata: {},
      createdAt: now,
      updatedAt: now,
      completedAt: null,
      links: { self, events: `${self}/events`, report: `${self}/report.pdf` },
    };
  };

  app.post('/v1/faxes', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string' && idempotency.has(key)) {
      return reply.code(200).header('idempotent-replayed', 'true').send(idempotency.get(key));
    }
    const form = await new Response(req.body as Buffer, {
      headers: { 'content-type': String(req.headers['content-type']) },
    }).formData();
    const to = form.getAll('to').map(String);
    if (to.length === 0) return reply.code(400).send(error('VALIDATION_FAILED', 'to is required.'));
    const docs: V1Fax['documents'] = [];
    for (const f of form.getAll('file')) {
      if (typeof f === 'string') continue;
      const bytes = Buffer.from(await f.arrayBuffer());
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      uploads.push({ filename: f.name, contentType: f.type, size: bytes.length, sha256 });
      docs.push({ filename: f.name, contentType: f.type, sizeBytes: bytes.length, sha256, pages: null });
    }
    const metadata = form.get('metadata');
    const created = to.map((n) => {
      const fax = newFax(n, to.length > 1 ? `b-${seq + 1}` : null, docs);
      if (typeof metadata === 'string') fax.metadata = JSON.parse(metadata) as Record<string, string>;
      const sendAt = form.get('sendAt');
      if (typeof sendAt === 'string') fax.sendAt = sendAt;
      faxes.set(fax.id, fax);
      return fax;
    });
    const body =
      created.length === 1
        ? created[0]
        : {
            object: 'broadcast',
            id: created[0]!.broadcastId,
            tenantId: 'acme',
            total: created.length,
            counts: {},
            completed: false,
            faxes: created,
          };
    if (typeof key === 'string') idempotency.set(key, body);
    return reply.code(202).send(body);
  });

  app.get('/v1/faxes/:id', async (req, reply) => {
    const fax = faxes.get((req.params as { id: string }).id);
    if (!fax) return reply.code(404).send(error('FAX_NOT_FOUND', 'No such fax.'));
    const next = scripts.get(fax.id)?.shift();
    if (next) {
      fax.status = next;
      fax.final = ['Delivered', 'Failed', 'Canceled', 'Rejected', 'Expired'].includes(next);
      if (next === 'Sending') {
        fax.attempts.push({
          attempt: fax.attempts.length + 1,
          status: 'Sending',
          messageId: null,
          faxErrorCode: null,
          errorCode: null,
          startedAt: new Date().toISOString(),
          finishedAt: null,
        });
      }
      fax.updatedAt = new Date().toISOString();
    }
    return fax;
  });

  app.get('/v1/faxes', async (req) => {
    const q = req.query as Record<string, string>;
    const limit = Number(q.limit ?? 2);
    const all = [...faxes.values()]
      .filter((f) => !q.status || f.status === q.status)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const start = q.cursor ? all.findIndex((f) => f.id === q.cursor) + 1 : 0;
    const data = all.slice(start, start + limit);
    return { data, nextCursor: start + limit < all.length ? data[data.length - 1]!.id : null };
  });

  app.post('/v1/faxes/:id/cancel', async (req, reply) => {
    const fax = faxes.get((req.params as { id: string }).id);
    if (!fax) return reply.code(404).send(error('FAX_NOT_FOUND', 'No such fax.'));
    if (fax.final)
      return reply.code(409).send(error('FAX_ALREADY_FINAL', `The fax is already ${fax.status}.`));
    fax.status = 'Canceled';
    fax.final = true;
    return { canceled: true, fax };
  });

  app.post('/v1/faxes/:id/reschedule', async (req, reply) => {
    const fax = faxes.get((req.params as { id: string }).id);
    if (!fax) return reply.code(404).send(error('FAX_NOT_FOUND', 'No such fax.'));
    fax.sendAt = (req.body as { sendAt: string }).sendAt;
    return fax;
  });

  app.get('/v1/faxes/:id/report.pdf', async (req, reply) => {
    if (!faxes.has((req.params as { id: string }).id))
      return reply.code(404).send(error('FAX_NOT_FOUND', 'No such fax.'));
    return reply.header('content-type', 'application/pdf').send(Buffer.from('%PDF-1.7 fake report'));
  });

  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    url,
    faxes,
    uploads,
    scripts,
    requests,
    throttleNext: (n) => {
      throttle = n;
    },
    close: () => app.close(),
  };
}
