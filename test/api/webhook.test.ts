import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { markSubscriptionStatus } from '../../src/db/subscriptions';
import { DEFAULT_SUBSCRIPTION_CACHE_MS } from '../../src/api/plugins/ringcentral-webhook';
import type { DatabaseHandle } from '../../src/db/connection';
import { createLogger } from '../../src/logger';
import { createNotificationProcessor } from '../../src/webhooks/notification-processor';
import { testDatabase } from '../support/database';
import { signalRecordingClient } from '../support/signal-recorder';
import {
  createSubscription,
  makeApp,
  notificationFor,
  type NotificationRecorder,
  rowsFor,
  settle,
  WEBHOOK,
  type TestSubscription,
} from './helpers';

let database: DatabaseHandle;
let app: FastifyInstance;
let notifications: NotificationRecorder;
let sub: TestSubscription;

beforeAll(async () => {
  database = testDatabase();
  ({ app, notifications } = await makeApp(database.db));
});
afterAll(async () => {
  await app.close();
  await database.close();
});
beforeEach(async () => {
  notifications.calls.length = 0;
  sub = await createSubscription(database.db);
});

const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };

function post(headers: Record<string, string>, payload: string | Buffer = '') {
  return app.inject({ method: 'POST', url: WEBHOOK, headers, payload });
}

/** Every refused request: nothing stored for the subscription, nothing handed on. */
async function expectNothingWritten(subscriptionId = sub.id) {
  await settle();
  expect(await rowsFor(database.db, subscriptionId)).toHaveLength(0);
  expect(notifications.calls).toHaveLength(0);
}

function expectErrorShape(body: string, code: string) {
  const json = JSON.parse(body) as { error: { code: string; message: string } };
  expect(json.error.code).toBe(code);
  expect(json.error.message).toMatch(/^[A-Z"].*\.$/);
  expect(json.error.message).not.toMatch(/\n\s+at /);
  return json.error.message;
}

describe('handshake', () => {
  it('echoes Validation-Token with 200 and a tiny body, touching nothing', async () => {
    const res = await post({ 'validation-token': 'handshake-abc-123' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['validation-token']).toBe('handshake-abc-123');
    expect(res.rawPayload.length).toBeLessThan(1024);
    await expectNothingWritten();
  });

  it('also with an empty JSON body', async () => {
    const res = await post({ 'validation-token': 'tok-2', ...JSON_CT }, '');
    expect(res.statusCode).toBe(200);
    expect(res.headers['validation-token']).toBe('tok-2');
  });

  it('an empty body without any token is a 400', async () => {
    const res = await post(JSON_CT);
    expect(res.statusCode).toBe(400);
    expectErrorShape(res.body, 'EMPTY_BODY');
  });
});

describe('notifications', () => {
  it('with the right token: stored before the 200, then handed on with the stored id', async () => {
    const payload = notificationFor(sub.id);
    const next = notifications.next();
    const res = await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(payload));
    expect(res.statusCode).toBe(200);
    const rows = await rowsFor(database.db, sub.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.uuid).toBe(payload.uuid);
    expect(rows[0]!.body).toEqual(payload);
    expect(rows[0]!.processed_at).toBeNull();
    const handed = await next;
    expect(handed).toEqual({
      notificationId: rows[0]!.id,
      subscriptionId: sub.id,
      credentialKey: sub.credentialKey,
      body: payload,
    });
  });

  it('stores and hands on a redelivered notification (same uuid) only once', async () => {
    const payload = notificationFor(sub.id);
    const next = notifications.next();
    const first = await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(payload));
    await next;
    const again = await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(payload));
    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(await rowsFor(database.db, sub.id)).toHaveLength(1);
    // Notifications are handed on in arrival order: once a later, different one has been handed
    // on, a hand-off of the duplicate would already be in the recorder.
    const later = notificationFor(sub.id);
    const laterHanded = notifications.next();
    await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(later));
    expect((await laterHanded).body).toEqual(later);
    expect(notifications.calls.map((c) => c.body)).toEqual([payload, later]);
  });

  it('accepts the token under the Validation-Token name', async () => {
    const payload = notificationFor(sub.id);
    const next = notifications.next();
    const res = await post({ ...JSON_CT, 'validation-token': sub.token }, JSON.stringify(payload));
    expect(res.statusCode).toBe(200);
    expect((await next).subscriptionId).toBe(sub.id);
    expect(await rowsFor(database.db, sub.id)).toHaveLength(1);
  });

  it('keeps extra fields and stores suspended subscriptions’ notifications too', async () => {
    const suspended = await createSubscription(database.db, { status: 'Suspended' });
    const payload = notificationFor(suspended.id, { extra: { a: [1, 2] } });
    const res = await post({ ...JSON_CT, 'verification-token': suspended.token }, JSON.stringify(payload));
    expect(res.statusCode).toBe(200);
    expect((await rowsFor(database.db, suspended.id))[0]!.body).toEqual(payload);
  });

  it('answers 200 even when the callback fails (the row stays for recovery)', async () => {
    const failing = await makeApp(database.db, {
      onNotification: async () => {
        throw new Error('reconciler down');
      },
    });
    try {
      const res = await failing.app.inject({
        method: 'POST',
        url: WEBHOOK,
        headers: { ...JSON_CT, 'verification-token': sub.token },
        payload: JSON.stringify(notificationFor(sub.id)),
      });
      expect(res.statusCode).toBe(200);
      await settle();
      const rows = await rowsFor(database.db, sub.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.processed_at).toBeNull();
    } finally {
      await failing.app.close();
    }
  });
});

describe('notifications covered by one on its way', () => {
  /** POSTs a notification to `target` with the given verification token. */
  function postTo(target: FastifyInstance, token: string, payload: unknown) {
    return target.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: { ...JSON_CT, 'verification-token': token },
      payload: JSON.stringify(payload),
    });
  }

  /** An app whose handler covers (absorbs) what `covers` says, recording what it was asked. */
  async function coveringApp(covers: boolean) {
    const asked: unknown[] = [];
    const handed: unknown[] = [];
    const onNotification = Object.assign(
      async (n: unknown) => {
        handed.push(n);
      },
      {
        absorb: (n: unknown) => {
          asked.push(n);
          return covers;
        },
      },
    );
    const built = await makeApp(database.db, { onNotification });
    return { ...built, asked, handed };
  }

  it('a covered notification is answered 200 without a row or a hand-off', async () => {
    const covering = await coveringApp(true);
    try {
      const payload = notificationFor(sub.id);
      const res = await postTo(covering.app, sub.token, payload);
      expect(res.statusCode).toBe(200);
      await settle();
      expect(await rowsFor(database.db, sub.id)).toHaveLength(0);
      expect(covering.handed).toHaveLength(0);
      // Asked with the subscription's credential and the whole notification.
      expect(covering.asked).toEqual([{ credentialKey: sub.credentialKey, body: payload }]);
    } finally {
      await covering.app.close();
    }
  });

  it('one the handler does not cover is stored and handed on', async () => {
    const covering = await coveringApp(false);
    try {
      const res = await postTo(covering.app, sub.token, notificationFor(sub.id));
      expect(res.statusCode).toBe(200);
      await settle();
      expect(await rowsFor(database.db, sub.id)).toHaveLength(1);
      expect(covering.handed).toHaveLength(1);
    } finally {
      await covering.app.close();
    }
  });

  it('with the real processor: a burst keeps one row per signal and every change reaches the reconciler', async () => {
    const { client, calls } = signalRecordingClient();
    const signals = () => calls.map((c) => c.signalArgs[0]);
    // A window long enough for the burst below to fall within it, even on a loaded machine.
    const processor = createNotificationProcessor({
      db: database.db,
      client,
      taskQueue: 'q',
      batchMs: 1_500,
    });
    const real = await makeApp(database.db, { onNotification: processor });
    const send = async (payload: unknown) => {
      const res = await postTo(real.app, sub.token, payload);
      expect(res.statusCode).toBe(200);
      await settle();
    };
    try {
      // RingCentral's four notifications of one fax: new (with its id), rendered, Sent, Delivered.
      await send(
        notificationFor(sub.id, {
          body: { changes: [{ type: 'Fax', newCount: 1, newMessageIds: [42] }] },
        }),
      );
      for (let i = 0; i < 3; i++) await send(notificationFor(sub.id));
      // The first was signalled at once; the second waits for the window and covers the last two.
      const rows = await rowsFor(database.db, sub.id);
      expect(rows).toHaveLength(2);
      await vi.waitFor(() => expect(signals()).toHaveLength(2), { timeout: 5_000 });
      expect(signals()).toEqual([{ newMessageIds: ['42'] }, { newMessageIds: [] }]);
      await vi.waitFor(async () => {
        const processed = await rowsFor(database.db, sub.id);
        expect(processed.every((r) => r.processed_at instanceof Date)).toBe(true);
      });
      // Once that signal has gone, the next change is stored again.
      await send(notificationFor(sub.id));
      expect(await rowsFor(database.db, sub.id)).toHaveLength(3);
      await vi.waitFor(() => expect(signals()).toHaveLength(3), { timeout: 5_000 });
    } finally {
      await real.app.close();
    }
  });

  it('authentication comes first: a wrong token is refused and nothing is asked', async () => {
    const covering = await coveringApp(true);
    try {
      const res = await postTo(covering.app, `${sub.token}x`, notificationFor(sub.id));
      expect(res.statusCode).toBe(401);
      expect(covering.asked).toHaveLength(0);
    } finally {
      await covering.app.close();
    }
  });
});

describe('refused notifications write nothing and call nothing', () => {
  it('wrong token → 401', async () => {
    const res = await post(
      { ...JSON_CT, 'verification-token': `${sub.token}x` },
      JSON.stringify(notificationFor(sub.id)),
    );
    expect(res.statusCode).toBe(401);
    expectErrorShape(res.body, 'UNAUTHORIZED');
    await expectNothingWritten();
  });

  it('wrong token of the same length → 401', async () => {
    const wrong = sub.token.slice(0, -1) + (sub.token.endsWith('a') ? 'b' : 'a');
    const res = await post(
      { ...JSON_CT, 'verification-token': wrong },
      JSON.stringify(notificationFor(sub.id)),
    );
    expect(res.statusCode).toBe(401);
    await expectNothingWritten();
  });

  it('another subscription’s token → 401', async () => {
    const other = await createSubscription(database.db);
    const res = await post(
      { ...JSON_CT, 'verification-token': other.token },
      JSON.stringify(notificationFor(sub.id)),
    );
    expect(res.statusCode).toBe(401);
    await expectNothingWritten();
    await expectNothingWritten(other.id);
  });

  it('missing token → 401', async () => {
    const res = await post(JSON_CT, JSON.stringify(notificationFor(sub.id)));
    expect(res.statusCode).toBe(401);
    expect(expectErrorShape(res.body, 'UNAUTHORIZED')).toContain('Verification-Token');
    await expectNothingWritten();
  });

  it('a wrong Verification-Token is not rescued by a right Validation-Token', async () => {
    const res = await post(
      { ...JSON_CT, 'verification-token': 'nope', 'validation-token': sub.token },
      JSON.stringify(notificationFor(sub.id)),
    );
    expect(res.statusCode).toBe(401);
    await expectNothingWritten();
  });

  it('unknown subscription → 404', async () => {
    const res = await post(
      { ...JSON_CT, 'verification-token': sub.token },
      JSON.stringify(notificationFor('sub-does-not-exist')),
    );
    expect(res.statusCode).toBe(404);
    expectErrorShape(res.body, 'UNKNOWN_SUBSCRIPTION');
    await expectNothingWritten('sub-does-not-exist');
  });

  it('deleted subscription → 404, even with its token', async () => {
    const deleted = await createSubscription(database.db, { status: 'Deleted' });
    const res = await post(
      { ...JSON_CT, 'verification-token': deleted.token },
      JSON.stringify(notificationFor(deleted.id)),
    );
    expect(res.statusCode).toBe(404);
    await expectNothingWritten(deleted.id);
  });

  it('trusts a subscription it found for a few seconds: its deletion is honoured once that lapses', async () => {
    const send = () =>
      post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(notificationFor(sub.id)));
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      expect((await send()).statusCode).toBe(200);
      await markSubscriptionStatus(database.db, sub.id, 'Deleted');
      // Within the window the remembered row answers (no read per notification)...
      expect((await send()).statusCode).toBe(200);
      // ...but a wrong token is still refused from the remembered row.
      const forged = await post(
        { ...JSON_CT, 'verification-token': 'not-the-token' },
        JSON.stringify(notificationFor(sub.id)),
      );
      expect(forged.statusCode).toBe(401);
      vi.setSystemTime(Date.now() + DEFAULT_SUBSCRIPTION_CACHE_MS + 1);
      const res = await send();
      expect(res.statusCode).toBe(404);
      expectErrorShape(res.body, 'UNKNOWN_SUBSCRIPTION');
    } finally {
      vi.useRealTimers();
    }
    await settle();
    expect(await rowsFor(database.db, sub.id)).toHaveLength(2);
  });

  it('body too large → 413', async () => {
    const payload = notificationFor(sub.id, { padding: 'x'.repeat(70 * 1024) });
    const res = await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(payload));
    expect(res.statusCode).toBe(413);
    expect(expectErrorShape(res.body, 'PAYLOAD_TOO_LARGE')).toContain('64 KiB');
    await expectNothingWritten();
  });

  it('malformed JSON → 400', async () => {
    const res = await post(
      { ...JSON_CT, 'verification-token': sub.token },
      JSON.stringify(notificationFor(sub.id)).slice(0, -3),
    );
    expect(res.statusCode).toBe(400);
    expectErrorShape(res.body, 'INVALID_JSON');
    await expectNothingWritten();
  });

  it.each([
    ['missing subscriptionId', (p: Record<string, unknown>) => delete p.subscriptionId, 'subscriptionId'],
    ['body is an array', (p: Record<string, unknown>) => (p.body = []), 'body'],
    ['uuid is a number', (p: Record<string, unknown>) => (p.uuid = 42), 'uuid'],
    [
      'subscriptionId has spaces',
      (p: Record<string, unknown>) => (p.subscriptionId = 'a b'),
      'subscriptionId',
    ],
  ])('wrong shape (%s) → 400 naming the field', async (_name, mutate, field) => {
    const payload: Record<string, unknown> = notificationFor(sub.id);
    mutate(payload);
    const res = await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(payload));
    expect(res.statusCode).toBe(400);
    expect(expectErrorShape(res.body, 'INVALID_NOTIFICATION')).toContain(field);
    await expectNothingWritten();
  });

  it('a JSON array or scalar instead of an object → 400', async () => {
    for (const payload of ['[]', '"x"', '1', 'null']) {
      const res = await post({ ...JSON_CT, 'verification-token': sub.token }, payload);
      expect(res.statusCode).toBe(400);
    }
    await expectNothingWritten();
  });

  it('NUL characters and unpaired surrogates, which jsonb refuses → 400, not 5xx', async () => {
    for (const bad of ['a\u0000b', '\ud800']) {
      const payload = notificationFor(sub.id, { body: { note: bad } });
      const res = await post({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(payload));
      expect(res.statusCode).toBe(400);
    }
    await expectNothingWritten();
  });

  it('deeply nested JSON → 400', async () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const payload = JSON.stringify(notificationFor(sub.id)).replace(
      '"changes":',
      `"deep":${deep},"changes":`,
    );
    const res = await post({ ...JSON_CT, 'verification-token': sub.token }, payload);
    expect(res.statusCode).toBe(400);
    await expectNothingWritten();
  });

  it.each([['text/plain'], ['application/x-www-form-urlencoded'], ['multipart/form-data; boundary=x']])(
    'wrong content type %s → 415',
    async (contentType) => {
      const res = await post(
        { 'content-type': contentType, 'verification-token': sub.token },
        JSON.stringify(notificationFor(sub.id)),
      );
      expect(res.statusCode).toBe(415);
      expectErrorShape(res.body, 'UNSUPPORTED_MEDIA_TYPE');
      await expectNothingWritten();
    },
  );

  it('no content type with a body → 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: WEBHOOK,
      headers: { 'verification-token': sub.token },
      payload: Buffer.from(JSON.stringify(notificationFor(sub.id))),
    });
    expect(res.statusCode).toBe(415);
    await expectNothingWritten();
  });

  it('GET on the webhook → 405 with Allow', async () => {
    const res = await app.inject({ method: 'GET', url: WEBHOOK });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expectErrorShape(res.body, 'METHOD_NOT_ALLOWED');
  });
});

describe('secrets stay out of the logs', () => {
  it('neither the token of a handshake nor of a notification is logged', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const logger = pino({ level: 'trace' }, sink);
    const logged = await makeApp(database.db, { logger });
    try {
      const send = (headers: Record<string, string>, payload: string) =>
        logged.app.inject({ method: 'POST', url: WEBHOOK, headers, payload });
      await send({ 'validation-token': 'handshake-secret-1' }, '');
      await send({ ...JSON_CT, 'verification-token': sub.token }, JSON.stringify(notificationFor(sub.id)));
      await send(
        { ...JSON_CT, 'verification-token': 'wrong-secret-2' },
        JSON.stringify(notificationFor(sub.id)),
      );
      await settle();
      const all = lines.join('');
      expect(all).toContain('webhook notification stored');
      expect(all).not.toContain('handshake-secret-1');
      expect(all).not.toContain(sub.token);
      expect(all).not.toContain('wrong-secret-2');
    } finally {
      await logged.app.close();
    }
  });

  it('works with the process logger (createLogger) as well', async () => {
    const logged = await makeApp(database.db, { logger: createLogger('silent') });
    const res = await logged.app.inject({ method: 'GET', url: '/health' });
    expect(res.json()).toEqual({ ok: true });
    await logged.app.close();
  });
});
