import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the benchmarks write their JSON figures: bench/results (committed, quoted by the README),
 * or `FAXFLOW_BENCH_RESULTS_DIR` when set, so a smoke run (`npm run bench:smoke`) never overwrites
 * the committed figures with its tiny-N ones.
 */
export function benchResultsDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.FAXFLOW_BENCH_RESULTS_DIR?.trim();
  if (override) return path.resolve(override);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');
}
