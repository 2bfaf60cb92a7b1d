import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { CONNECTION_UNAVAILABLE, type ConnectionUnavailableDetail } from '../contracts/connection-failure';

/** The detail of an activity failure that says the connection needs reconnecting, if it is one. */
export function connectionUnavailable(err: unknown): ConnectionUnavailableDetail | undefined {
  if (
    !(err instanceof ActivityFailure) ||
    !(err.cause instanceof ApplicationFailure) ||
    err.cause.type !== CONNECTION_UNAVAILABLE
  )
    return undefined;
  const detail = err.cause.details?.[0] as Partial<ConnectionUnavailableDetail> | undefined;
  return {
    connectionId: detail?.connectionId ?? '',
    status: detail?.status ?? 'unavailable',
    reason: detail?.reason ?? err.cause.message,
  };
}
