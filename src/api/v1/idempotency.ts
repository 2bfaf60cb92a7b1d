import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  readIdempotencyKey,
  releaseIdempotencyKey,
} from '../../db/v1-idempotency';
import type { Db } from '../../db/schema';
import { JOB_ID_PATTERN } from '../../domain/job-id';
import { ApiError, quote, singleHeader } from '../errors';
import { stableJson } from '../../domain/stable-json';

/** How long a duplicate waits for the first request with its key to finish before answering 409. */
const WAIT_FOR_FIRST_MS = 10_000;
const POLL_MS = 50;

/** SHA-256 of what a request asks for (route and normalised content), whatever its encoding. */
export function fingerprintOf(route: string, content: unknown): string {
  return createHash('sha256').update(route).update('\n').update(stableJson(content)).digest('hex');
}

/** The `Idempotency-Key` header: undefined when absent, 400 when malformed or repeated. */
export function idempotencyKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const key = singleHeader(raw);
  if (key === undefined || !JOB_ID_PATTERN.test(key)) {
    throw new ApiError(
      400,
      'INVALID_IDEMPOTENCY_KEY',
      `The Idempotency-Key ${key === undefined ? '(repeated)' : quote(key)} is not allowed; use 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit (it becomes the fax id).`,
    );
  }
  return key;
}

export interface Answer {
  statusCode: number;
  body: unknown;
}

function reused(key: string): ApiError {
  return new ApiError(
    422,
    'IDEMPOTENCY_KEY_REUSED',
    `The Idempotency-Key ${quote(key)} was already used for a different request; use a new key for a new fax, or resend the same request to get the original answer.`,
  );
}

/**
 * Idempotency as payment APIs define it. The first request with a key claims it in Postgres (one
 * wins a race: the primary key decides) and its answer is stored; the same key with the same request
 * gets that answer again (200, `Idempotent-Replayed: true`), with a different request 422. A duplicate
 * arriving while the first is still running waits for its answer (up to 10 s, then 409). A first
 * request that fails frees the key, so that it can be retried.
 */
export async function answerOnce(
  db: Db,
  reply: FastifyReply,
  scope: { tenantId: string; key: string | undefined; fingerprint: string },
  work: () => Promise<Answer>,
): Promise<unknown> {
  const { tenantId, key, fingerprint } = scope;
  if (key === undefined) {
    const answer = await work();
    return reply.code(answer.statusCode).send(answer.body);
  }
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const claim = await claimIdempotencyKey(db, tenantId, key, fingerprint);
    if (claim.state === 'claimed') {
      let answer: Answer;
      try {
        answer = await work();
      } catch (err) {
        await releaseIdempotencyKey(db, tenantId, key).catch(() => undefined);
        throw err;
      }
      await completeIdempotencyKey(db, tenantId, key, {
        statusCode: answer.statusCode,
        response: answer.body,
      });
      return reply.code(answer.statusCode).send(answer.body);
    }
    if (claim.fingerprint !== fingerprint) throw reused(key);
    if (claim.state === 'done') {
      return reply.code(200).header('idempotent-replayed', 'true').send(claim.response);
    }
    // The first request is still running: wait for its answer (or for it to fail and free the key).
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const now = await readIdempotencyKey(db, tenantId, key);
      if (!now || now.state === 'done') break;
    }
    if (Date.now() >= deadline) {
      throw new ApiError(
        409,
        'IDEMPOTENCY_KEY_IN_USE',
        `A request with the Idempotency-Key ${quote(key)} is still being processed; retry in a few seconds.`,
        { 'retry-after': '2' },
      );
    }
  }
}
