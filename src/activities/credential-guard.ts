import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './deps';

/**
 * Refuses to act for another credential than the one this worker holds. Fleets of different
 * credentials may share one Postgres and one Temporal namespace: a task that reached the wrong
 * fleet would read and sign RingCentral calls with the wrong account. Retrying on the same worker
 * cannot help, so the failure is non-retryable; the workflow decides what to do next.
 */
export function assertCredential(deps: Pick<ActivityDeps, 'credentialKey'>, requested?: string): void {
  if (requested === undefined || requested === deps.credentialKey) return;
  throw ApplicationFailure.create({
    type: 'CredentialMismatch',
    nonRetryable: true,
    message:
      `This worker holds RingCentral credential ${deps.credentialKey}, but the task is for credential ` +
      `${requested}; it must run on the task queue of the workers holding ${requested}.`,
  });
}
