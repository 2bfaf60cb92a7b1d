import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The workflow bundle `npm run build` writes beside the compiled code (dist/workflow-bundle.js),
 * when this module runs from that build. Under tsx the same path points into src/, where no bundle
 * ever is: editing workflow code and running from source can never pick up a stale bundle.
 */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  const codePath = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  return existsSync(codePath) ? { codePath } : undefined;
}
