import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isDatabaseUnavailable } from '../db/unavailable';
import { FaxValidationError } from '../validation/validation-error';
import { IdempotencyKeyReusedError } from '../client/fax-client';
import { NoConnectionError } from '../domain/no-connection';
import { isTemporalUnavailable, RETRY_AFTER_SECONDS } from './unavailable';

/** What every error answer looks like: `code` for machines, `message` is one sentence for people. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** An answer the API chose on purpose: status, stable code and one sentence. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    /** Machine-readable specifics (the field, the limit...), answered as `error.details`. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code, message, ...(details && { details }) } };
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Header values arrive as string, string[] (repeated) or undefined; only a single string counts. */
export function singleHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The most of a client's value any answer echoes: a 10 KB key must not come back in full. */
export const ECHO_MAX = 40;

/** Printable and short, so that it can go into a message without flooding or forging a log line. */
export function quote(value: string, max = ECHO_MAX): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}...` : clean);
}

function describeRoute(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
}

/** Fastify's own errors (body parsing, limits) in our words. */
function fromFastifyError(err: FastifyError, request: FastifyRequest): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than the ${formatBytes(request.routeOptions.bodyLimit)} allowed for ${describeRoute(request)}.`,
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const ct = singleHeader(request.headers['content-type']);
      return new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${ct === undefined ? '(none)' : quote(ct)} is not accepted here; send application/json.`,
      );
    }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(
        400,
        'INVALID_JSON',
        'The body is empty although Content-Type says JSON; send a JSON object.',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ApiError(400, 'INVALID_JSON', 'The body is not valid JSON; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError(400, 'BAD_REQUEST', 'The body size does not match the Content-Length header.');
    // @fastify/multipart (HTTP API v1 uploads)
    case 'FST_REQ_FILE_TOO_LARGE':
      return new ApiError(
        413,
        'PAYLOAD_TOO_LARGE',
        'An uploaded file is larger than allowed; RingCentral accepts at most 50 MB per fax.',
        // The rest of the upload is not read: see installLingeringClose.
      );
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new ApiError(
        413,
        'TOO_MANY_PARTS',
        'The form has too many parts; send at most 50 files and 1100 fields.',
      );
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'The request is not multipart/form-data; send the documents as multipart/form-data.',
      );
    case 'FST_PROTO_VIOLATION':
      return new ApiError(400, 'INVALID_REQUEST', 'A form field name is not allowed (__proto__).');
    case 'FST_MP_PREMATURE_CLOSE':
      return new ApiError(400, 'INVALID_MULTIPART', 'The request ended before the form was complete.');
    default:
      return undefined;
  }
}

/** Longest path parameter routed (job ids are at most 128); longer ones get `frameworkErrors`. */
export const MAX_PARAM_LENGTH = 256;

/**
 * Errors Fastify's router raises before any route or error handler runs (a path parameter longer
 * than `maxParamLength`, an undecodable URL), answered in the house format instead of Fastify's own.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0] ?? request.url;
  const segment = path.split('/').filter(Boolean).at(-1) ?? path;
  const api =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError(
          400,
          'INVALID_REQUEST',
          `The path segment ${quote(segment)} is longer than ${MAX_PARAM_LENGTH} characters; job ids are 1 to 128 characters.`,
        )
      : new ApiError(400, 'INVALID_REQUEST', `The path ${quote(path)} is not a valid URL path.`);
  request.log.info({ code: api.code, statusCode: api.statusCode }, api.message);
  void reply.code(api.statusCode).send(errorBody(api.code, api.message));
}

/** A dependency outage in HTTP terms: 503 with Retry-After, so that clients come back later. */
function fromOutage(err: unknown): ApiError | undefined {
  const headers = { 'retry-after': String(RETRY_AFTER_SECONDS) };
  if (isDatabaseUnavailable(err)) {
    return new ApiError(
      503,
      'DATABASE_UNAVAILABLE',
      `The database is unavailable right now; retry in ${RETRY_AFTER_SECONDS} seconds.`,
      headers,
    );
  }
  if (isTemporalUnavailable(err)) {
    return new ApiError(
      503,
      'TEMPORAL_UNAVAILABLE',
      `The workflow service (Temporal) is unavailable right now; retry in ${RETRY_AFTER_SECONDS} seconds.`,
      headers,
    );
  }
  return undefined;
}

function toApiError(err: unknown, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof FaxValidationError) return new ApiError(422, err.code, err.message);
  if (err instanceof IdempotencyKeyReusedError) return new ApiError(422, err.code, err.message);
  if (err instanceof NoConnectionError) return new ApiError(422, err.code, err.message);
  const outage = fromOutage(err);
  if (outage) return outage;
  const fe = err as Partial<FastifyError> | undefined;
  if (fe && typeof fe === 'object' && typeof fe.code === 'string') {
    const mapped = fromFastifyError(fe as FastifyError, request);
    if (mapped) return mapped;
  }
  const status = fe && typeof fe === 'object' ? fe.statusCode : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Some other refusal by Fastify or Node: keep the status, never its internals.
    return new ApiError(
      status,
      'BAD_REQUEST',
      `The request was refused (HTTP ${status}); check its headers and body.`,
    );
  }
  return new ApiError(500, 'INTERNAL', 'An unexpected error occurred on the server; it has been logged.');
}

/**
 * The app's single error path: every error, thrown by a route, a body parser or Fastify itself,
 * becomes `{ error: { code, message } }`. Stack traces and internals go to the log, never to the client.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const api = toApiError(err, request);
    if (api.statusCode === 503) request.log.warn({ code: api.code }, api.message);
    else if (api.statusCode >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: api.code, statusCode: api.statusCode }, api.message);
    return reply
      .code(api.statusCode)
      .headers(api.headers)
      .send(errorBody(api.code, api.message, api.details));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    return reply
      .code(404)
      .send(
        errorBody(
          'NOT_FOUND',
          `There is no route ${request.method} ${quote(path)}; see the API documentation.`,
        ),
      );
  });
}

/** Which field of a request a zod issue is about, as `documents[0].filename`. */
function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

/** The value at a zod issue's path (zod 4 does not report inputs unless asked). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * One sentence for the first problem zod found in `input`: which field, what is wrong, what is allowed.
 */
export function describeZodError(error: z.ZodError, input: unknown, what = 'request body'): string {
  const issue = error.issues[0];
  if (!issue) return `The ${what} is invalid.`;
  const field = fieldName(issue.path);
  const subject = field === '' ? `The ${what}` : `The field "${field}"`;
  switch (issue.code) {
    case 'invalid_type':
      if (field !== '' && valueAt(input, issue.path) === undefined) return `${subject} is required.`;
      return `${subject} must be ${ARTICLE[issue.expected] ?? issue.expected}.`;
    case 'unrecognized_keys':
      return `${field === '' ? 'The' : `In "${field}", the`} field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
        .slice(0, 5)
        .map((k) => quote(k, 40))
        .join(', ')} ${issue.keys.length > 1 ? 'are' : 'is'} not allowed.`;
    case 'too_small':
    case 'too_big': {
      const bound = String(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const limit = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.code === 'too_small' && issue.origin === 'string' && bound === '1') {
        return `${subject} must not be empty.`;
      }
      if (issue.origin === 'array') return `${subject} must have ${limit} ${bound} item(s).`;
      if (issue.origin === 'string') return `${subject} must have ${limit} ${bound} character(s).`;
      return `${subject} must be ${limit} ${bound}.`;
    }
    case 'invalid_value':
      return `${subject} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}.`;
    default:
      return `${subject} ${issue.message.replace(/\.$/, '')}.`;
  }
}
