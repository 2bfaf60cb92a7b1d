import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes operators filter on in the Temporal UI, e.g.
 * `FaxStatus = "Failed" AND FaxRecipient = "+12025550123"`. They must be registered on the
 * namespace before a workflow sets them (the dev server registers them at start; for a real
 * cluster see the README).
 */
export const FaxStatusKey = defineSearchAttributeKey('FaxStatus', SearchAttributeType.KEYWORD);
export const FaxRecipientKey = defineSearchAttributeKey('FaxRecipient', SearchAttributeType.KEYWORD);
export const FaxMessageIdKey = defineSearchAttributeKey('FaxMessageId', SearchAttributeType.KEYWORD);
export const TenantIdKey = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
/** The RingCentral connection a job is sent through (e.g. every job waiting for one to reconnect). */
export const ConnectionIdKey = defineSearchAttributeKey('ConnectionId', SearchAttributeType.KEYWORD);

export const FAX_SEARCH_ATTRIBUTES = [
  FaxStatusKey,
  FaxRecipientKey,
  FaxMessageIdKey,
  TenantIdKey,
  ConnectionIdKey,
];
