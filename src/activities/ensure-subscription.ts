import { Context } from '@temporalio/activity';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  activateSubscription,
  dropPendingSubscription,
  findSubscriptionAddress,
  insertPendingSubscription,
  markSubscriptionStatus,
  updateSubscriptionExpiry,
} from '../db/subscriptions';
import { RingCentralApiError } from '../ringcentral/errors';
import type { Subscription } from '../ringcentral/types';
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
}

/**
 * Keeps one live webhook subscription for this credential: renews it well before it expires,
 * and replaces it when RingCentral has blacklisted, suspended or forgotten it (a GET that answers
 * 404), or when our receiver's address changed. The verification token is new for every
 * subscription and is stored (in a pending row) before RingCentral is asked to create it, so no
 * notification can arrive that we cannot authenticate, and a crash leaves no unknown subscription.
 * The row also records this worker's task queue: the API routes the credential's reconciler there.
 */
export function createEnsureSubscription(deps: ActivityDeps) {
  const { db } = deps;
  return async function ensureSubscription(args: EnsureSubscriptionArgs): Promise<EnsureSubscriptionResult> {
    const credentialKey = connectionKey(deps, args.credentialKey);
    const ringcentral = await ringCentralFor(deps, args.credentialKey);
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
  };
}

function result(s: Subscription, action: EnsureSubscriptionResult['action']): EnsureSubscriptionResult {
  return { subscriptionId: s.id, status: s.status, expiresAt: s.expirationTime, action };
}
