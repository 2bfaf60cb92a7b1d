import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/config';
import { faxClientFor } from '../workers/dependencies';
import type { FaxWorkflowResult } from '../contracts/workflow-types';
import { UsageError } from './errors';
import { isSuccessStatus } from '../domain/fax-status';

export interface SendOptions {
  files: string[];
  to: string;
  sendAt?: string;
  key?: string;
  coverPageText?: string;
  wait: boolean;
}

/** `faxflow send`: submits one fax to a running faxflow (TEMPORAL_ADDRESS, default 127.0.0.1:7233). */
export async function runSend(opts: SendOptions, out: (line: string) => void): Promise<number> {
  if (opts.files.length === 0)
    throw new UsageError('faxflow send needs at least one file: faxflow send FILE... --to NUMBER.');
  const config = loadConfig();
  const address = config.temporalAddress ?? '127.0.0.1:7233';
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: '5s' });
  } catch {
    throw new UsageError(`Cannot reach Temporal at ${address}; start faxflow dev, or set TEMPORAL_ADDRESS.`);
  }
  try {
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const faxes = faxClientFor(config, client);
    const started = await faxes.startFax({
      to: opts.to,
      documents: opts.files.map((path) => ({ path })),
      ...(opts.key && { idempotencyKey: opts.key }),
      ...(opts.sendAt && { sendAt: opts.sendAt }),
      ...(opts.coverPageText !== undefined && { coverPageText: opts.coverPageText }),
    });
    out(
      `${started.started ? 'Started' : 'Already submitted'}: job ${started.jobId} (workflow ${started.workflowId})`,
    );
    if (!opts.wait) return 0;
    const result = (await client.workflow.getHandle(started.workflowId).result()) as FaxWorkflowResult;
    out(`${result.status}${result.errorMessage ? `: ${result.errorMessage}` : ''}`);
    return isSuccessStatus(result.status) ? 0 : 1;
  } finally {
    await connection.close();
  }
}
