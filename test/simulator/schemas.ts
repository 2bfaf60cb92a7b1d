/** zod schemas written from the documented RingCentral shapes (docs in /work/shared/ringcentral-api.md). */
import { z } from 'zod';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const status = z.enum(['Queued', 'Sent', 'Delivered', 'DeliveryFailed', 'SendingFailed']);

export const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.literal('bearer'),
  expires_in: z.number().int().positive(),
  refresh_token: z.string().min(1),
  refresh_token_expires_in: z.number().int().positive(),
  scope: z.string(),
  owner_id: z.string(),
  endpoint_id: z.string(),
});

export const ApiErrorBody = z.object({
  errorCode: z.string(),
  message: z.string(),
  errors: z
    .array(z.object({ errorCode: z.string(), message: z.string(), parameterName: z.string().optional() }))
    .min(1),
});

export const OAuthErrorBody = z.object({
  error: z.string(),
  error_description: z.string(),
  errors: z.array(z.object({ errorCode: z.string().regex(/^OAU-\d+$/), message: z.string() })).min(1),
});

export const MessageRecord = z.object({
  id: z.number().int().positive(),
  uri: z.string().regex(/\/restapi\/v1\.0\/account\/\d+\/extension\/\d+\/message-store\/\d+$/),
  type: z.literal('Fax'),
  direction: z.literal('Outbound'),
  messageStatus: status,
  faxResolution: z.enum(['High', 'Low']),
  faxPageCount: z.number().int().min(0),
  creationTime: isoDate,
  lastModifiedTime: isoDate,
  availability: z.enum(['Alive', 'Deleted', 'Purged']),
  readStatus: z.enum(['Read', 'Unread']),
  priority: z.string(),
  from: z.object({ phoneNumber: z.string().regex(/^\+\d+$/), name: z.string() }),
  to: z
    .array(
      z.object({
        phoneNumber: z.string().regex(/^\+\d+$/),
        name: z.string().optional(),
        location: z.string().optional(),
        messageStatus: status,
        faxErrorCode: z.string().optional(),
      }),
    )
    .min(1),
  attachments: z.array(
    z.object({
      id: z.number().int(),
      uri: z.string().url(),
      type: z.literal('RenderedDocument'),
      contentType: z.string(),
    }),
  ),
  coverIndex: z.number().int().optional(),
  coverPageText: z.string().optional(),
});

export const MessageList = z.object({
  uri: z.string(),
  records: z.array(MessageRecord),
  paging: z.object({
    page: z.number().int(),
    totalPages: z.number().int(),
    perPage: z.number().int(),
    totalElements: z.number().int(),
    pageStart: z.number().int().optional(),
    pageEnd: z.number().int().optional(),
  }),
  navigation: z.object({
    firstPage: z.object({ uri: z.string() }).optional(),
    nextPage: z.object({ uri: z.string() }).optional(),
    previousPage: z.object({ uri: z.string() }).optional(),
    lastPage: z.object({ uri: z.string() }).optional(),
  }),
});

export const SubscriptionRecord = z.object({
  id: z.string(),
  uri: z.string(),
  status: z.enum(['Active', 'Blacklisted', 'Suspended']),
  eventFilters: z.array(z.string()),
  expirationTime: isoDate,
  expiresIn: z.number().int(),
  creationTime: isoDate,
  deliveryMode: z.object({ transportType: z.literal('WebHook'), address: z.string() }),
});

export const Notification = z.object({
  uuid: z.string(),
  event: z.string().regex(/^\/restapi\/v1\.0\/account\/\d+\/extension\/\d+\/message-store$/),
  timestamp: isoDate,
  subscriptionId: z.string(),
  ownerId: z.string(),
  body: z.object({
    accountId: z.number(),
    extensionId: z.number(),
    lastUpdated: isoDate,
    changes: z
      .array(
        z.object({
          type: z.literal('Fax'),
          newCount: z.number().int().optional(),
          updatedCount: z.number().int().optional(),
          newMessageIds: z.array(z.number()).optional(),
        }),
      )
      .min(1),
  }),
});
