#!/usr/bin/env node
// Two ways to run faxflow, chosen explicitly:
// - by default, the TypeScript sources through tsx: no build step to forget while developing;
// - with FAXFLOW_PREBUILT=1 (or =FOLDER), the production build from `npm run build` (dist/, or FOLDER):
//   compiled JavaScript, and workers load the prebuilt workflow bundle instead of bundling at start.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const prebuilt = process.env.FAXFLOW_PREBUILT;
let main;
if (prebuilt && prebuilt !== '0') {
  const dir = prebuilt === '1' ? fileURLToPath(new URL('../dist', import.meta.url)) : path.resolve(prebuilt);
  const entry = path.join(dir, 'cli', 'main.js');
  if (!existsSync(entry)) {
    console.error(`faxflow: FAXFLOW_PREBUILT is set but ${entry} does not exist; run npm run build first.`);
    process.exit(2);
  }
  ({ main } = await import(pathToFileURL(entry).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
