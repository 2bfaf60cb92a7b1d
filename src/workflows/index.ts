// The workflow bundle's entry point: everything exported here is a workflow type the worker serves.
export { FaxWorkflow } from './fax-workflow';
export { FaxBroadcastWorkflow } from './broadcast-workflow';
export { SubscriptionWorkflow } from './subscription-workflow';
export { ReconcileWorkflow } from './reconcile-workflow';
export { WebhookDeliveryWorkflow } from './webhook-delivery-workflow';
