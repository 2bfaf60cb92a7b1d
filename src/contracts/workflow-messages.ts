import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CancelFaxResult,
  ConnectionRestoredSignal,
  DeliveryStatusSignal,
  FaxBroadcastState,
  FaxesChangedSignal,
  SubscriptionWorkflowState,
  FaxWorkflowState,
  RescheduleFaxResult,
  WebhooksDownSignal,
} from './workflow-types';

/** A RingCentral status for this job's current message, pushed by the webhook reconciler. */
export const deliveryStatusSignal = defineSignal<[DeliveryStatusSignal]>('deliveryStatus');

/** The job's RingCentral connection works again (notifyConnectionRestored): stop waiting for it. */
export const connectionRestoredSignal = defineSignal<[ConnectionRestoredSignal]>('connectionRestored');

/**
 * The job's connection's status webhooks stopped (notifyWebhooksDown): a job waiting for a status
 * webhook polls at once and keeps polling at the normal rate until a poll finds them healthy again.
 */
export const webhooksDownSignal = defineSignal<[WebhooksDownSignal]>('webhooksDown');

/** The whole timeline so far and the next planned action. */
export const statusQuery = defineQuery<FaxWorkflowState>('status');

/**
 * Cancels the fax if it has not been transmitted yet: before its send time, between redials, or
 * (with `schedule: 'ringcentral'`) while RingCentral still holds it. Answers why not otherwise.
 */
export const cancelUpdate = defineUpdate<CancelFaxResult>('cancel');

/** Moves the send time of a fax that has not been transmitted yet. */
export const rescheduleUpdate = defineUpdate<RescheduleFaxResult, [sendAt: string]>('reschedule');

/** Progress of a broadcast: how many recipients have finished, by status. */
export const broadcastStatusQuery = defineQuery<FaxBroadcastState>('broadcastStatus');

/** RingCentral said outbound faxes changed (a webhook notification): reconcile soon. */
export const faxesChangedSignal = defineSignal<[FaxesChangedSignal]>('faxesChanged');

export const subscriptionStateQuery = defineQuery<SubscriptionWorkflowState>('state');
export const subscriptionCheckSignal = defineSignal('checkNow');
