import { createHash } from 'node:crypto';

/**
 * A stable name for one RingCentral credential (server, app, user) that does not contain it:
 * the key of its shared rate budgets, its subscription and its reconciler.
 */
export function credentialKey(target: { serverUrl: string; clientId: string; jwt: string }): string {
  return createHash('sha256')
    .update(`${target.serverUrl}|${target.clientId}|${target.jwt}`)
    .digest('hex')
    .slice(0, 16);
}
