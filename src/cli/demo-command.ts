import { isSuccessStatus } from '../domain/fax-status';
import { findFaxJob } from '../db/fax-jobs';
import { loadConfig } from '../config/config';
import { createLogger } from '../logger';
import { makeSamplePdf } from '../pdf/sample-document';
import { startStack } from '../stack/embedded-stack';
import type { FaxWorkflowState } from '../contracts/workflow-types';
import { installTemporalRuntime, untilInterrupted } from '../workers/runtime';

export interface DemoOptions {
  to: string;
  pages: number;
  keepRunning: boolean;
  timeoutMs: number;
}

/**
 * `faxflow demo`: the whole pipeline on embedded defaults. Sends a freshly made PDF, prints each
 * status change as it happens, and exits 0 once the fax succeeded (Sent or Delivered, see README
 * "Status models") and its row is final.
 */
export async function runDemo(opts: DemoOptions, out: (line: string) => void): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  installTemporalRuntime('ERROR', logger);
  const started = Date.now();
  const stamp = (): string => `+${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7);
  const stack = await startStack(config, logger, { onProgress: (l) => out(`${stamp()}  ${l}`) });
  try {
    const pdf = await makeSamplePdf(opts.pages, 'faxflow demo');
    const fax = await stack.faxClient.startFax({
      to: opts.to,
      documents: [{ bytes: pdf, filename: 'faxflow-demo.pdf' }],
      // The simulator runs fast; poll it often so the demo takes seconds, not minutes.
      policy: { pollInitialMs: 250, pollMaxMs: 1_000, redialBackoffMs: 1_000, sentQuietPeriodMs: 10_000 },
    });
    const { workflowId } = fax;
    out(`${stamp()}  Started ${workflowId}: ${opts.pages}-page PDF to ${opts.to}`);
    if (stack.uiUrl) {
      out(`${stamp()}  Temporal UI: ${stack.uiUrl}/namespaces/${stack.namespace}/workflows/${workflowId}`);
    }

    const handle = stack.client.workflow.getHandle(workflowId);
    let printed = 0;
    let lastLine: string | undefined;
    const printNew = (state: FaxWorkflowState): void => {
      for (const entry of state.timeline.slice(printed)) {
        const details = [
          entry.attempt && `attempt ${entry.attempt}`,
          entry.messageId && `message ${entry.messageId}`,
          entry.faxErrorCode,
          entry.note,
        ].filter(Boolean);
        const line = `${entry.status}${details.length ? `  (${details.join(', ')})` : ''}`;
        // The outcome is a timeline entry of its own: when it only confirms the last status seen
        // (Sent on an account that reports no delivery), the line would say the same thing twice.
        if (line !== lastLine) out(`${stamp()}  ${line}`);
        lastLine = line;
      }
      printed = state.timeline.length;
    };
    const deadline = Date.now() + opts.timeoutMs;
    let result: Awaited<ReturnType<typeof handle.result>> | undefined;
    const resultPromise = handle.result().then((r) => (result = r));
    while (result === undefined && Date.now() < deadline) {
      printNew(await handle.query('status'));
      await Promise.race([resultPromise, new Promise((r) => setTimeout(r, 100))]);
    }
    if (result === undefined) {
      out(`${stamp()}  The fax did not finish within ${opts.timeoutMs / 1000} s.`);
      return 1;
    }
    printNew(await handle.query('status'));
    const row = await findFaxJob(stack.deps.database.db, fax.workflowId);
    out(
      `${stamp()}  fax_jobs row: status=${row?.status} message_id=${row?.message_id} pages=${row?.pages} ` +
        `attempts=${row?.attempts} completed_at=${row?.completed_at?.toISOString() ?? 'null'}`,
    );
    // Sent is the final success on an account that does not report delivery (the simulator's default).
    const ok =
      isSuccessStatus(result.status) &&
      row !== undefined &&
      row.status === result.status &&
      row.completed_at !== null;
    out(
      ok
        ? `${stamp()}  ${result.status}.`
        : `${stamp()}  Not delivered: ${result.status} ${result.errorMessage ?? ''}`,
    );
    if (opts.keepRunning) {
      out('Everything keeps running so you can browse the Temporal UI; press Ctrl-C to stop.');
      await untilInterrupted();
    }
    return ok ? 0 : 1;
  } finally {
    await stack.close();
  }
}
