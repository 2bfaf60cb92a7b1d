import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DeliveryStatusSignal, FaxWorkflowState } from './types';

/** A RingCentral status for this job's current message, pushed by the webhook reconciler. */
export const deliveryStatusSignal = defineSignal<[DeliveryStatusSignal]>('deliveryStatus');

/** The whole timeline so far and the next planned action. */
export const statusQuery = defineQuery<FaxWorkflowState>('status');
