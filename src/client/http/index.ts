/**
 * `faxflow/client`: the typed HTTP client of faxflow's v1 API, and `verifyWebhook` for receivers
 * of its event webhooks.
 */
export { FaxflowClient, createFaxflowClient, isFinalFax, type FaxflowClientOptions } from './client';
export { FaxflowApiError } from './errors';
export { verifyWebhook } from './verify-webhook';
export type { FaxFile } from './multipart';
export type * from './types';
export type {
  V1Broadcast,
  V1ErrorBody,
  V1EventEnvelope,
  V1EventType,
  V1Fax,
  V1FaxAttempt,
  V1FaxDocument,
  V1FaxEvent,
  V1Page,
} from '../../contracts/v1-api';
export { V1_EVENT_TYPES } from '../../contracts/v1-api';
