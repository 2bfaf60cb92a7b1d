import { isGrpcServiceError } from '@temporalio/client';

/** Seconds a client should wait before trying again while a dependency is down. */
export const RETRY_AFTER_SECONDS = 5;

// gRPC status codes (grpc/grpc doc/statuscodes.md): the frontend is down or restarting, did not
// answer within our deadline, or sheds load.
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;
const TEMPORAL_UNAVAILABLE = new Set<number>([UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED]);

/** Temporal's frontend cannot be reached (down, restarting) or did not answer within our deadline. */
export function isTemporalUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 4) return false;
  if (isGrpcServiceError(err) && TEMPORAL_UNAVAILABLE.has(err.code)) return true;
  return isTemporalUnavailable(err.cause, depth + 1);
}
