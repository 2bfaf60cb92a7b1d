import { Context } from '@temporalio/activity';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  activateSubscription,
  dropPendingSubscription,
  findSubscriptionAddress,
  insertPendingSubscription,
  markSubscriptionStatus,
  ownedSubscriptionIds,
  updateSubscriptionExpiry,
} from '../db/subscriptions';
import { RingCentralApiError } from '../ringcentral/errors';
import type { RingCentralClient, Subscription } from '../ringcentral/types';
import { connectionKey, ringCentralFor } from './connection';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export interface EnsureSubscriptionArgs {
  /** The connection the workflow keeps a subscription for (absent: the worker's own credential). */
  credentialKey?: string;
  /** The subscription the workflow knows of, if any. */
  subscriptionId?: string;
  /** Public URL of our receiver, e.g. https://fax.example.com/webhooks/ringcentral. */
  address: string;
  expiresInSeconds: number;
  /** Renew when fewer than this many ms are left. */
  renewBeforeMs: number;
}

export interface EnsureSubscriptionResult {
  subscriptionId: string;
  status: string;
  expiresAt: string;
  action: 'created' | 'recreated' | 'renewed' | 'unchanged';
  reason?: string;
  /** Subscriptions to our receiver that no row of ours stood for, deleted at RingCentral. */
  orphansDeleted?: number;
}

/**
 * Keeps one live webhook subscription for this credential: renews it well before it expires,
 * and replaces it when RingCentral has blacklisted, suspended or forgotten it (a GET that answers
 * 404), or when our receiver's address changed. The verification token is new for every
 * subscription and is stored (in a pending row) before RingCentral is asked to create it, so no
 * notification can arrive that we cannot authenticate, and a crash leaves no unknown subscription.
 * The row also records this worker's task queue: the API routes the credential's reconciler there.
 * Every check also deletes the orphans: subscriptions to our address that no row of ours stands for.
 */
export function createEnsureSubscription(deps: ActivityDeps) {
  const { db, logger } = deps;
  return async function ensureSubscription(args: EnsureSubscriptionArgs): Promise<EnsureSubscriptionResult> {
    const ringcentral = await ringCentralFor(deps, args.credentialKey);
    const kept = await keep(args, ringcentral);
    const orphansDeleted = await deleteOrphans(ringcentral, args.address, kept.subscriptionId);
    return { ...kept, ...(orphansDeleted > 0 && { orphansDeleted }) };
  };

  /**
   * Deletes the subscriptions RingCentral holds for our receiver's address that no row of ours
   * stands for: left by a crash between the create call and storing its id (the pending row keeps
   * only the token), or by a replaced subscription whose delete failed. Each takes one of the
   * subscriptions RingCentral allows per app and user (SUB-505 past about 30) and posts
   * notifications the receiver refuses. Subscriptions to other addresses are not ours to judge.
   * Best effort: a failure here is logged and the next check tries again.
   */
  async function deleteOrphans(
    ringcentral: RingCentralClient,
    address: string,
    liveId: string,
  ): Promise<number> {
    let deleted = 0;
    try {
      const mine = (await ringcentral.listSubscriptions()).filter(
        (s) => s.address === address && s.id !== liveId,
      );
      const owned = await ownedSubscriptionIds(
        db,
        mine.map((s) => s.id),
      );
      for (const orphan of mine.filter((s) => !owned.has(s.id))) {
        try {
          await ringcentral.deleteSubscription(orphan.id);
          deleted++;
          logger.warn(
            { subscriptionId: orphan.id },
            'deleted an orphan RingCentral subscription to our receiver',
          );
        } catch (err) {
          if (!(err instanceof RingCentralApiError && err.status === 404)) throw err;
        }
      }
    } catch (err) {
      logger.warn({ err }, 'looking for orphan RingCentral subscriptions failed; the next check tries again');
    }
    return deleted;
  }

  async function keep(
    args: EnsureSubscriptionArgs,
    ringcentral: RingCentralClient,
  ): Promise<EnsureSubscriptionResult> {
    const credentialKey = connectionKey(deps, args.credentialKey);
    const taskQueue = Context.current().info.taskQueue;
    try {
      let reason: string | undefined;
      if (args.subscriptionId) {
        const current = await ringcentral.getSubscription(args.subscriptionId);
        const knownAddress = await findSubscriptionAddress(db, args.subscriptionId);
        if (current?.status === 'Active' && knownAddress === args.address) {
          const left = Date.parse(current.expirationTime) - Date.now();
          const live = left < args.renewBeforeMs ? await ringcentral.renewSubscription(current.id) : current;
          await updateSubscriptionExpiry(db, live.id, {
            status: live.status,
            expiresAt: new Date(live.expirationTime),
            taskQueue,
          });
          return result(live, left < args.renewBeforeMs ? 'renewed' : 'unchanged');
        }
        reason = !current
          ? 'RingCentral no longer has the subscription'
          : current.status !== 'Active'
            ? `the subscription is ${current.status}`
            : 'the receiver address changed';
        if (current) await ringcentral.deleteSubscription(current.id);
        await markSubscriptionStatus(
          db,
          args.subscriptionId,
          current?.status === 'Blacklisted' ? 'Blacklisted' : 'Deleted',
        );
      }
      const verificationToken = randomBytes(24).toString('base64url');
      await insertPendingSubscription(db, {
        id: `pending-${randomUUID()}`,
        credentialKey,
        verificationToken,
        address: args.address,
        expiresAt: new Date(Date.now() + args.expiresInSeconds * 1000),
        taskQueue,
      });
      let created;
      try {
        created = await ringcentral.createSubscription({
          address: args.address,
          verificationToken,
          expiresInSeconds: args.expiresInSeconds,
        });
      } catch (err) {
        // A refusal (e.g. 400 SUB-525, the handshake failed) created nothing: drop the row, or the
        // keeper's retries would pile them up. Any other failure may have created it: keep the row.
        const refused = err instanceof RingCentralApiError && err.status >= 400 && err.status < 500;
        if (refused && !err.isRateLimited) await dropPendingSubscription(db, verificationToken);
        throw err;
      }
      await activateSubscription(db, verificationToken, {
        id: created.id,
        status: created.status,
        expiresAt: new Date(created.expirationTime),
      });
      return { ...result(created, args.subscriptionId ? 'recreated' : 'created'), ...(reason && { reason }) };
    } catch (err) {
      throw toApplicationFailure(err);
    }
  }
}

function result(s: Subscription, action: EnsureSubscriptionResult['action']): EnsureSubscriptionResult {
  return { subscriptionId: s.id, status: s.status, expiresAt: s.expirationTime, action };
}
