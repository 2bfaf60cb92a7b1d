import { randomBytes } from 'node:crypto';
import {
  findSubscriptionAddress,
  markSubscriptionStatus,
  updateSubscriptionExpiry,
  upsertSubscription,
} from '../db/subscriptions';
import type { Subscription } from '../ringcentral/types';
import type { ActivityDeps } from './deps';
import { toApplicationFailure } from './failures';

export interface EnsureSubscriptionArgs {
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
 * and replaces it when RingCentral has blacklisted, suspended or forgotten it, or when our
 * receiver's address changed. The verification token is new for every subscription and is
 * stored before any notification can arrive for it.
 */
export function createEnsureSubscription({ db, ringcentral, credentialKey }: ActivityDeps) {
  return async function ensureSubscription(args: EnsureSubscriptionArgs): Promise<EnsureSubscriptionResult> {
    try {
      let reason: string | undefined;
      if (args.subscriptionId) {
        const current = await ringcentral.getSubscription(args.subscriptionId);
        const knownAddress = await findSubscriptionAddress(db, args.subscriptionId);
        if (current?.status === 'Active' && knownAddress === args.address) {
          const left = Date.parse(current.expirationTime) - Date.now();
          const live = left < args.renewBeforeMs ? await ringcentral.renewSubscription(current.id) : current;
          await save(live, args.address);
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
      const created = await ringcentral.createSubscription({
        address: args.address,
        verificationToken,
        expiresInSeconds: args.expiresInSeconds,
      });
      await save(created, args.address, verificationToken);
      return { ...result(created, args.subscriptionId ? 'recreated' : 'created'), ...(reason && { reason }) };
    } catch (err) {
      throw toApplicationFailure(err);
    }
  };

  async function save(s: Subscription, address: string, verificationToken?: string): Promise<void> {
    if (verificationToken === undefined) {
      await updateSubscriptionExpiry(db, s.id, { status: s.status, expiresAt: new Date(s.expirationTime) });
      return;
    }
    await upsertSubscription(db, {
      id: s.id,
      credentialKey,
      verificationToken,
      address,
      status: s.status,
      expiresAt: new Date(s.expirationTime),
    });
  }
}

function result(s: Subscription, action: EnsureSubscriptionResult['action']): EnsureSubscriptionResult {
  return { subscriptionId: s.id, status: s.status, expiresAt: s.expirationTime, action };
}
