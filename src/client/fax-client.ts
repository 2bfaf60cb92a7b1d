import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { DocumentRef, DocumentStore } from '../storage/document-store';
import { screenDocumentSet } from '../validation/screen-document-set';
import { normalizeFaxNumber, premiumRateAllowed } from '../validation/phone-number';
import { FaxValidationError } from '../validation/validation-error';
import { sendAtProblem } from '../domain/send-time';
import {
  broadcastJobId,
  broadcastWorkflowId,
  faxWorkflowId,
  legacyBroadcastWorkflowId,
  legacyFaxWorkflowId,
} from '../contracts/workflow-ids';
import { ConnectionIdKey, FaxRecipientKey, FaxStatusKey, TenantIdKey } from '../contracts/search-attributes';
import { NoConnectionError } from '../domain/no-connection';
import { DEFAULT_TENANT_ID, TENANT_ID_PATTERN } from '../domain/tenant-id';
import { statusQuery } from '../contracts/workflow-messages';
import type {
  CoverPageOptions,
  FaxBroadcastInput,
  FaxPolicy,
  FaxWorkflowInput,
  FaxWorkflowResult,
  FaxWorkflowState,
} from '../contracts/workflow-types';
import { JOB_ID_PATTERN } from '../domain/job-id';
import { faxSendOptions, type FaxSendOptions } from '../contracts/fax-send-options';
// Types only: the client never loads workflow code, but start() checks the arguments against it.
import type { FaxBroadcastWorkflow } from '../workflows/broadcast-workflow';
import type { FaxWorkflow } from '../workflows/fax-workflow';
import { stableJson } from '../domain/stable-json';

/**
 * An idempotency key that was already used for a different request: answering with the first job
 * would silently drop this one, so the caller is told (HTTP 422 IDEMPOTENCY_KEY_REUSED).
 */
export class IdempotencyKeyReusedError extends Error {
  override name = 'IdempotencyKeyReusedError';
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(
    readonly idempotencyKey: string,
    readonly workflowId: string,
  ) {
    super(
      `The idempotency key ${echo(idempotencyKey)} was already used for a different request; use a new key for a new fax, or resend the same request to get the existing job.`,
    );
  }
}

/** The memo field that holds a start's request fingerprint. */
export const REQUEST_FINGERPRINT_MEMO = 'requestFingerprint';

/**
 * SHA-256 over the normalised request (the workflow input without timing policy, keys sorted): the
 * same fax submitted twice has the same fingerprint, a different one (number, documents, send time) not.
 */
export function requestFingerprint(input: object): string {
  // The tenant is part of the workflow id, and the connection is chosen for the request, not asked
  // for: neither makes it another request (jobs from before tenants have neither in theirs).
  const {
    policy: _policy,
    tenantId: _tenant,
    connectionId: _connection,
    ...rest
  } = input as { policy?: unknown; tenantId?: unknown; connectionId?: unknown };
  return createHash('sha256').update(stableJson(rest)).digest('hex');
}

export type DocumentInput =
  | { path: string; filename?: string }
  | { bytes: Uint8Array; filename: string }
  /** Already in the document store and screened by the caller (the HTTP API streams uploads there). */
  | { stored: DocumentRef };

type StoredInput = { stored: DocumentRef };
const isStored = (d: DocumentInput): d is StoredInput => 'stored' in d;

/** What every fax of a request shares. */
export interface CommonFaxRequest extends FaxSendOptions {
  documents: DocumentInput[];
  /** The tenant the fax is sent for (default `default`): its id scopes the idempotency key. */
  tenantId?: string;
  /**
   * The tenant's RingCentral connection to send through; default: the tenant's only active one
   * (see FaxClientOptions.resolveConnection).
   */
  connectionId?: string;
  sendAt?: Date | string;
  schedule?: 'timer' | 'ringcentral';
  coverPage?: CoverPageOptions;
  policy?: Partial<FaxPolicy>;
}

export interface StartFaxRequest extends CommonFaxRequest {
  to: string;
  recipientName?: string;
  /**
   * Submitting the same request twice with the same key starts one workflow: the second call gets
   * the first. The same key with a different request throws IdempotencyKeyReusedError.
   */
  idempotencyKey?: string;
}

export interface StartBroadcastRequest extends CommonFaxRequest {
  recipients: { to: string; name?: string }[];
  /** The broadcast id; recipient i's job id is `<key>~<i+1>` (`~` is never part of a key). */
  idempotencyKey?: string;
}

export interface StartedBroadcast {
  broadcastId: string;
  workflowId: string;
  started: boolean;
  jobIds: string[];
}

export const MAX_BROADCAST_RECIPIENTS = 1000;

export interface StartedFax {
  jobId: string;
  workflowId: string;
  /** False when the idempotency key matched a fax that was already submitted. */
  started: boolean;
}

export interface FaxClientOptions {
  client: Client;
  documents: DocumentStore;
  taskQueue: string;
  defaultRegion: string;
  /** Timing for every job this client starts; a request's own `policy` overrides it field by field. */
  defaultPolicy?: Partial<FaxPolicy>;
  /** Tenants allowed to fax premium-rate numbers (`*` = all); default none. */
  premiumRateTenants?: readonly string[];
  /**
   * The connection that sends a tenant's fax: the requested one if it is the tenant's, else the
   * tenant's only active one; throws a clear error when there is none (db/job-connections.ts has
   * the Postgres-backed one). Absent: jobs carry the requested connection, if any, and otherwise
   * use the workers' own credential (single-credential deployments).
   */
  resolveConnection?: (tenantId: string, requested?: string) => Promise<string>;
}

/** The id a tenant's job runs under, or undefined when the tenant has no such job. */
export async function findFaxWorkflowId(
  client: Client,
  jobId: string,
  tenantId: string = DEFAULT_TENANT_ID,
): Promise<string | undefined> {
  // Its scoped id first, then (the default tenant's only) the id jobs had before tenants.
  const current = faxWorkflowId(jobId, tenantId);
  if (await ownedBy(client, current, tenantId)) return current;
  const legacy = legacyFaxWorkflowId(jobId);
  if (await isLegacyJob(client, legacy, tenantId)) return legacy;
  return undefined;
}

/**
 * Whether a job runs (or ran) under its id from before tenants (`fax-<key>`). Only the default
 * tenant had jobs then, and they carry no TenantId at all: a workflow under that id with one is
 * another job whose tenant-scoped id the key happens to spell (`acme-5` spells `fax-acme-5`, acme's
 * job `5`), never this key's. Other tenants cost no lookup.
 */
async function isLegacyJob(client: Client, legacyId: string, tenantId: string): Promise<boolean> {
  if (tenantId !== DEFAULT_TENANT_ID) return false;
  try {
    const description = await client.workflow.getHandle(legacyId).describe();
    return description.typedSearchAttributes.get(TenantIdKey) === undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Whether a workflow exists and belongs to the tenant (its TenantId; none: `default`, as jobs from
 * before tenants). Ids of different tenants can collide (see workflow-ids.ts): this is the check.
 */
async function ownedBy(client: Client, workflowId: string, tenantId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return tenantOf(description) === tenantId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

function tenantOf(description: {
  typedSearchAttributes: { get(key: typeof TenantIdKey): string | undefined };
}) {
  return description.typedSearchAttributes.get(TenantIdKey) ?? DEFAULT_TENANT_ID;
}

/**
 * How runs this client starts may upsert (issue 13; see the fields): not part of a request nor of its
 * fingerprint. A broadcast passes them on to every child.
 */
const RUN_FLAGS = { mergedUpserts: true, quietStatuses: true, quietQueued: true } as const;

/**
 * The TypeScript entry point for upstream systems. It checks the request locally (so a bad file or
 * number fails here, with one sentence, before anything is stored or started), stores the documents
 * content-addressed, and starts one `FaxWorkflow` whose id derives from the idempotency key.
 */
export function createFaxClient({
  client,
  documents,
  taskQueue,
  defaultRegion,
  defaultPolicy,
  premiumRateTenants = [],
  resolveConnection,
}: FaxClientOptions) {
  function tenantOfRequest(request: CommonFaxRequest): string {
    const tenantId = request.tenantId ?? DEFAULT_TENANT_ID;
    if (!TENANT_ID_PATTERN.test(tenantId)) {
      throw new FaxValidationError(
        'INVALID_REQUEST',
        `The tenant id ${echo(tenantId)} is not allowed; use 1-40 lower-case letters, digits or '-', starting with a letter or digit.`,
      );
    }
    return tenantId;
  }

  /** Checks and stores what every fax of a request shares: tenant, connection, key, send time, documents. */
  async function prepareCommon(request: CommonFaxRequest, key: string | undefined) {
    const tenantId = tenantOfRequest(request);
    const id = key ?? randomUUID();
    if (!JOB_ID_PATTERN.test(id)) {
      throw new FaxValidationError(
        'INVALID_REQUEST',
        `The idempotency key ${echo(id)} is not allowed; use 1-128 letters, digits, '.', '_', ':' or '-'.`,
      );
    }
    const sendAt = parseSendAt(request.sendAt);
    const connectionId = resolveConnection
      ? await resolveConnection(tenantId, request.connectionId)
      : request.connectionId;
    if (connectionId === undefined && tenantId !== DEFAULT_TENANT_ID) {
      // Without a connection the workers' own credential would send it: another account's line.
      throw new NoConnectionError(
        tenantId,
        `Tenant ${tenantId} has no RingCentral connection this client can choose; give connectionId.`,
      );
    }
    const refs: DocumentRef[] = [];
    if (request.documents.length > 0 && request.documents.every(isStored)) {
      refs.push(...request.documents.map((d) => d.stored));
    } else {
      const loaded = await loadDocuments(request.documents);
      for (const doc of loaded) {
        refs.push(await documents.put(doc.bytes, { filename: doc.filename, contentType: doc.contentType }));
      }
    }
    const common = {
      documents: refs,
      tenantId,
      ...(connectionId !== undefined && { connectionId }),
      ...(sendAt && { sendAt }),
      ...faxSendOptions(request),
      ...(request.schedule && { schedule: request.schedule }),
      ...(request.coverPage && { coverPage: request.coverPage }),
      ...((defaultPolicy ?? request.policy) && { policy: { ...defaultPolicy, ...request.policy } }),
    };
    return { id, common, tenantId };
  }

  /** The tenant's search attributes: TenantId always, ConnectionId when the job has one. */
  function ownership(tenantId: string, connectionId: string | undefined) {
    return [
      { key: TenantIdKey, value: tenantId },
      ...(connectionId !== undefined ? [{ key: ConnectionIdKey, value: connectionId }] : []),
    ];
  }

  /**
   * One key, one workflow: a second submission, whether the first is running (conflict policy
   * FAIL) or finished (reuse policy REJECT_DUPLICATE), is refused by the server and answered with
   * the existing job, so the fax is never sent twice.
   */
  async function startOnce(
    key: string,
    tenantId: string,
    ids: { workflowId: string; legacyId: string },
    fingerprint: string,
    start: () => Promise<unknown>,
  ): Promise<{ workflowId: string; started: boolean }> {
    // A job of this tenant from before tenants runs (or ran) under its old id: the key is taken.
    if (await isLegacyJob(client, ids.legacyId, tenantId)) {
      await sameRequest(key, ids.legacyId, fingerprint);
      return { workflowId: ids.legacyId, started: false };
    }
    try {
      await start();
      return { workflowId: ids.workflowId, started: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    // Another tenant's key can spell the same id (see workflow-ids.ts): never answer with its job.
    if (!(await ownedBy(client, ids.workflowId, tenantId)))
      throw new IdempotencyKeyReusedError(key, ids.workflowId);
    await sameRequest(key, ids.workflowId, fingerprint);
    return { workflowId: ids.workflowId, started: false };
  }

  /**
   * The same key again: the same request gets the existing job, a different one an error.
   * Workflows started before fingerprints were kept have none and are taken as the same request.
   */
  async function sameRequest(key: string, workflowId: string, fingerprint: string): Promise<void> {
    const { memo } = await client.workflow.getHandle(workflowId).describe();
    const existing = memo?.[REQUEST_FINGERPRINT_MEMO];
    if (typeof existing === 'string' && existing !== fingerprint)
      throw new IdempotencyKeyReusedError(key, workflowId);
  }
  const once = {
    taskQueue,
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  } as const;

  async function startFax(request: StartFaxRequest): Promise<StartedFax> {
    const to = normalizeFaxNumber(request.to, defaultRegion, {
      allowPremiumRate: premiumRateAllowed(premiumRateTenants, request.tenantId),
    });
    const { id: jobId, common, tenantId } = await prepareCommon(request, request.idempotencyKey);
    const input: FaxWorkflowInput = {
      ...common,
      jobId,
      to,
      ...(request.recipientName && { recipientName: request.recipientName }),
    };
    const ids = { workflowId: faxWorkflowId(jobId, tenantId), legacyId: legacyFaxWorkflowId(jobId) };
    const fingerprint = requestFingerprint(input);
    const { workflowId, started } = await startOnce(jobId, tenantId, ids, fingerprint, () =>
      client.workflow.start<typeof FaxWorkflow>('FaxWorkflow', {
        ...once,
        workflowId: ids.workflowId,
        args: [{ ...input, ...RUN_FLAGS }],
        memo: { [REQUEST_FINGERPRINT_MEMO]: fingerprint },
        staticSummary: `Fax to ${to}`,
        typedSearchAttributes: [
          { key: FaxStatusKey, value: 'Accepted' },
          { key: FaxRecipientKey, value: to },
          ...ownership(tenantId, common.connectionId),
        ],
      }),
    );
    return { jobId, workflowId, started };
  }

  /**
   * One document set to many recipients. Numbers are checked by each recipient's own workflow, so
   * one bad number is one `Rejected` job in the report, not a refused broadcast.
   */
  async function startBroadcast(request: StartBroadcastRequest): Promise<StartedBroadcast> {
    if (request.recipients.length === 0 || request.recipients.length > MAX_BROADCAST_RECIPIENTS) {
      throw new FaxValidationError(
        'INVALID_REQUEST',
        `A broadcast has ${request.recipients.length} recipients; give 1 to ${MAX_BROADCAST_RECIPIENTS}.`,
      );
    }
    const { id: broadcastId, common, tenantId } = await prepareCommon(request, request.idempotencyKey);
    const input: FaxBroadcastInput = { ...common, broadcastId, recipients: request.recipients };
    const ids = {
      workflowId: broadcastWorkflowId(broadcastId, tenantId),
      legacyId: legacyBroadcastWorkflowId(broadcastId),
    };
    const fingerprint = requestFingerprint(input);
    const { workflowId, started } = await startOnce(broadcastId, tenantId, ids, fingerprint, () =>
      client.workflow.start<typeof FaxBroadcastWorkflow>('FaxBroadcastWorkflow', {
        ...once,
        workflowId: ids.workflowId,
        args: [{ ...input, ...RUN_FLAGS }],
        memo: { [REQUEST_FINGERPRINT_MEMO]: fingerprint },
        staticSummary: `Fax broadcast to ${request.recipients.length} recipients`,
        typedSearchAttributes: ownership(tenantId, common.connectionId),
      }),
    );
    return {
      broadcastId,
      workflowId,
      started,
      jobIds: request.recipients.map((_, i) => broadcastJobId(broadcastId, i)),
    };
  }

  /**
   * Live state from the workflow (query), plus the result once it has finished. A tenant sees only
   * its own jobs; jobs from before tenants are found under their old ids.
   */
  async function getFax(
    jobId: string,
    tenantId: string = DEFAULT_TENANT_ID,
  ): Promise<{ state: FaxWorkflowState; result?: FaxWorkflowResult } | undefined> {
    const workflowId = await findFaxWorkflowId(client, jobId, tenantId);
    if (workflowId === undefined) return undefined;
    const handle = client.workflow.getHandle<typeof FaxWorkflow>(workflowId);
    try {
      const [state, description] = await Promise.all([handle.query(statusQuery), handle.describe()]);
      if (description.status.name === 'COMPLETED') {
        return { state, result: await handle.result() };
      }
      return { state };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  return { startFax, startBroadcast, getFax };
}

export type FaxClient = ReturnType<typeof createFaxClient>;

/** A client's value in a message: printable, and never more than 40 characters of it. */
function echo(value: string): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}...` : clean);
}

function parseSendAt(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text =
    value instanceof Date ? (Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()) : value;
  const problem = sendAtProblem(text, Date.now());
  if (problem) throw new FaxValidationError('INVALID_REQUEST', problem);
  return new Date(text).toISOString();
}

async function loadDocuments(inputs: DocumentInput[]) {
  const raw: { bytes: Uint8Array; name: string }[] = [];
  for (const input of inputs) {
    if (isStored(input))
      throw new Error('Stored documents cannot be mixed with files or bytes in one request.');
    if (!('path' in input)) {
      raw.push({ bytes: input.bytes, name: input.filename });
      continue;
    }
    try {
      raw.push({ bytes: await readFile(input.path), name: input.filename ?? path.basename(input.path) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EISDIR'
            ? 'is a directory, not a file'
            : `cannot be read (${code ?? 'error'})`;
      throw new FaxValidationError('DOCUMENT_MISSING', `The file ${input.path} ${why}.`);
    }
  }
  // Cheap checks only: the PDF is parsed once, by prepareFaxJob, which rejects the job if need be.
  return screenDocumentSet(raw).map((d, i) => ({ ...d, bytes: raw[i]!.bytes }));
}
