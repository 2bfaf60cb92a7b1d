import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
const noop = () => undefined;
const b = await bundleWorkflowCode({ workflowsPath: '/work/main/src/workflows/index.ts', logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error } });
writeFileSync('/tmp/wfbundle.js', b.code);
