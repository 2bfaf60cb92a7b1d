import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema';
import { adoptPendingSubscription, findSubscription, listPendingSubscriptions } from '../../db/subscriptions';
import { RETRY_AFTER_SECONDS } from '../unavailable';
import { createNotificationWriter } from '../../db/webhook-notifications';
import { ApiError, describeZodError, quote, singleHeader } from '../errors';
import type { NotificationHandler, StoredNotification } from '../../webhooks/stored-notification';
import { tokensMatch } from '../tokens';

export interface RingCentralWebhookOptions {
  db: Kysely<Database>;
  /**
   * Called (not awaited) with every notification once it is stored; it marks `processed_at`. Its
   * `absorb`, if any, is asked first: a notification it covers is acknowledged without a row.
   */
  onNotification: NotificationHandler;
  /** Route path; default `/webhooks/ringcentral`. */
  path?: string;
  /** Largest accepted body in bytes; default 64 KiB (RingCentral's notifications are a few hundred bytes). */
  bodyLimit?: number;
  /**
   * How long a subscription found in Postgres is trusted without reading it again (default 5 s;
   * 0: read it for every notification). A busy subscription notifies several times per fax.
   */
  subscriptionCacheMs?: number;
}

/** See RingCentralWebhookOptions.subscriptionCacheMs. */
export const DEFAULT_SUBSCRIPTION_CACHE_MS = 5_000;
/** Subscriptions remembered at most (a process serves a few per connection). */
const SUBSCRIPTION_CACHE_MAX = 1_000;

export const DEFAULT_WEBHOOK_PATH = '/webhooks/ringcentral';
export const DEFAULT_WEBHOOK_BODY_LIMIT = 64 * 1024;
/** Deeper JSON than this is no RingCentral notification, and too deep for a cheap, safe walk. */
const MAX_DEPTH = 32;

/** A RingCentral notification envelope (see shared/ringcentral-api.md, "Webhooks"); extra fields are kept. */
export const ringCentralNotificationSchema = z.looseObject({
  uuid: z.string().min(1).max(256),
  event: z.string().min(1).max(2048),
  timestamp: z.string().max(64).optional(),
  subscriptionId: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters without spaces'),
  ownerId: z.string().max(64).optional(),
  body: z.record(z.string(), z.unknown()),
});

export type RingCentralNotification = z.infer<typeof ringCentralNotificationSchema>;

/** RingCentral sends the token in `Verification-Token`; some of its docs say `Validation-Token`. */
function presentedToken(request: FastifyRequest): string | undefined {
  return (
    singleHeader(request.headers['verification-token']) ?? singleHeader(request.headers['validation-token'])
  );
}

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const media = header.split(';')[0]?.trim().toLowerCase();
  return media === 'application/json';
}

/** Postgres `jsonb` refuses NUL characters and unpaired surrogates; depth is bounded for a safe walk. */
function unstorableReason(value: unknown): string | undefined {
  const bad = (s: string) => s.includes('\u0000') || /\p{Cs}/u.test(s);
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (bad(v)) return 'contains a NUL character or an unpaired surrogate, which cannot be stored';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) return `is nested more than ${MAX_DEPTH} levels deep`;
      if (Array.isArray(v)) {
        for (const item of v) stack.push([item, depth + 1]);
      } else {
        for (const [k, item] of Object.entries(v)) {
          if (bad(k)) return 'contains a NUL character or an unpaired surrogate, which cannot be stored';
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return undefined;
}

/**
 * `POST /webhooks/ringcentral`: the Validation-Token handshake, and notifications, which are
 * authenticated (known subscription + its verification token, compared in constant time), stored in
 * `webhook_notifications` before the 200 (unless `onNotification.absorb` says one already stored
 * covers it), then handed to `onNotification` without waiting for it.
 *
 * Encapsulated on purpose: its body parser (raw bytes, small limit) applies to this route only.
 */
export const ringCentralWebhook: FastifyPluginAsync<RingCentralWebhookOptions> = async (app, opts) => {
  const path = opts.path ?? DEFAULT_WEBHOOK_PATH;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_WEBHOOK_BODY_LIMIT;
  const { db, onNotification } = opts;
  // Notifications arriving together are stored by one statement, each answered once it committed.
  const storeNotification = createNotificationWriter(db);
  const cacheMs = opts.subscriptionCacheMs ?? DEFAULT_SUBSCRIPTION_CACHE_MS;
  type Subscription = NonNullable<Awaited<ReturnType<typeof findSubscription>>>;
  // Only subscriptions that exist are remembered, and only briefly: one deleted a moment ago may
  // still be accepted for `cacheMs` (its token is still checked), which costs nothing, since what
  // it reports is about our own faxes; an unknown one is looked up every time (pending adoption).
  const known = new Map<string, { subscription: Subscription; until: number }>();
  const lookUp = async (id: string): Promise<Subscription | undefined> => {
    const hit = known.get(id);
    if (hit && hit.until > Date.now()) return hit.subscription;
    const subscription = await findSubscription(db, id);
    if (subscription && cacheMs > 0) {
      if (known.size >= SUBSCRIPTION_CACHE_MAX) known.clear();
      known.set(id, { subscription, until: Date.now() + cacheMs });
    } else known.delete(id);
    return subscription;
  };

  // Take the bytes whatever the Content-Type says: the handshake may come with an empty JSON body, and
  // we want to answer 415/400 ourselves, after the size check that the parser does.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    done(null, body);
  });

  function handOff(request: FastifyRequest, notification: StoredNotification): void {
    void Promise.resolve()
      .then(() => onNotification(notification))
      .catch((err: unknown) => {
        request.log.error(
          { err, notificationId: notification.notificationId },
          'processing a webhook notification failed; the sweep of unprocessed rows hands it on again',
        );
      });
  }

  app.post(path, { bodyLimit }, async (request: FastifyRequest, reply: FastifyReply) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const validationToken = singleHeader(request.headers['validation-token']);

    // Handshake: answer at once, echoing the token; no database work (RingCentral allows 3 s).
    if (raw.length === 0 && validationToken !== undefined) {
      if (!/^[\x20-\x7e]{1,1024}$/.test(validationToken)) {
        throw new ApiError(
          400,
          'INVALID_VALIDATION_TOKEN',
          'The Validation-Token header must be 1 to 1024 printable ASCII characters.',
        );
      }
      return reply.code(200).header('Validation-Token', validationToken).send({ ok: true });
    }

    if (raw.length === 0) {
      throw new ApiError(
        400,
        'EMPTY_BODY',
        'The body is empty; send a JSON notification, or a Validation-Token header for the handshake.',
      );
    }
    const contentType = singleHeader(request.headers['content-type']);
    if (!isJsonContentType(contentType)) {
      throw new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${contentType === undefined ? '(none)' : quote(contentType)} is not accepted; notifications must be application/json.`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ApiError(400, 'INVALID_JSON', 'The body is not valid JSON; a notification is a JSON object.');
    }
    const unstorable = unstorableReason(json);
    if (unstorable !== undefined) {
      throw new ApiError(400, 'INVALID_NOTIFICATION', `The notification ${unstorable}.`);
    }
    const parsed = ringCentralNotificationSchema.safeParse(json);
    if (!parsed.success) {
      throw new ApiError(400, 'INVALID_NOTIFICATION', describeZodError(parsed.error, json, 'notification'));
    }
    const notification = parsed.data;
    const body = json as Record<string, unknown>;

    const token = presentedToken(request);
    if (token === undefined) {
      throw new ApiError(
        401,
        'UNAUTHORIZED',
        'The Verification-Token header is missing; send the token given when the subscription was created.',
      );
    }
    let subscription: Awaited<ReturnType<typeof findSubscription>>;
    try {
      subscription = await lookUp(notification.subscriptionId);
      // RingCentral may notify before its create call has answered us: the token, stored first in a
      // pending row, proves the subscription is ours. A crash after the create leaves such a row too.
      if (!subscription) {
        const pending = (await listPendingSubscriptions(db)).find((p) =>
          tokensMatch(token, p.verification_token),
        );
        if (pending) {
          await adoptPendingSubscription(db, pending.id, notification.subscriptionId);
          subscription = (await findSubscription(db, notification.subscriptionId)) ?? {
            ...pending,
            id: notification.subscriptionId,
          };
        }
      }
    } catch (err) {
      request.log.error({ err }, 'looking up a webhook subscription failed');
      throw unavailable();
    }
    if (!subscription) {
      throw new ApiError(
        404,
        'UNKNOWN_SUBSCRIPTION',
        `Subscription ${quote(notification.subscriptionId)} is not one this service created, or it was deleted.`,
      );
    }
    if (!tokensMatch(token, subscription.verification_token)) {
      throw new ApiError(
        401,
        'UNAUTHORIZED',
        'The verification token does not match the one given when the subscription was created.',
      );
    }

    // A change already on its way to the reconciler with a stored notification needs no row.
    if (onNotification.absorb?.({ credentialKey: subscription.credential_key, body })) {
      request.log.info(
        { subscriptionId: subscription.id, uuid: notification.uuid },
        'webhook notification covered by a stored one awaiting its signal',
      );
      return reply.code(200).send({ ok: true });
    }

    // Persist before answering: once RingCentral has its 200, the notification must not be lost.
    let notificationId: number;
    try {
      const id = await storeNotification({
        subscriptionId: subscription.id,
        uuid: notification.uuid,
        body: json,
      });
      // A redelivery of a notification we already hold: acknowledge it, process it once.
      if (id === undefined) {
        request.log.info(
          { subscriptionId: subscription.id, uuid: notification.uuid },
          'duplicate notification ignored',
        );
        return reply.code(200).send({ ok: true, duplicate: true });
      }
      notificationId = id;
    } catch (err) {
      request.log.error({ err }, 'storing a webhook notification failed');
      throw unavailable();
    }
    request.log.info(
      { notificationId, subscriptionId: subscription.id, uuid: notification.uuid },
      'webhook notification stored',
    );
    handOff(request, {
      notificationId,
      subscriptionId: subscription.id,
      credentialKey: subscription.credential_key,
      ...(subscription.task_queue && { taskQueue: subscription.task_queue }),
      body,
    });
    return reply.code(200).send({ ok: true });
  });
};

/** The store is down: a 503 makes RingCentral retry, which is what we want (nothing was stored). */
function unavailable(): ApiError {
  return new ApiError(
    503,
    'STORE_UNAVAILABLE',
    'The notification could not be stored right now; send it again later.',
    { 'retry-after': String(RETRY_AFTER_SECONDS) },
  );
}
