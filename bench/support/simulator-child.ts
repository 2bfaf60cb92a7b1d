/**
 * The RingCentral simulator in a process of its own, for benchmarks that report CPU by party
 * (bench:throughput): started by `startSimulatorProcess` with its options as JSON in argv, it
 * prints one line `{"url", "port", "credentials"}` once it listens, and stops on SIGTERM.
 */
import { startSimulator } from '../../src/simulator';
import type { SimulatorOptions } from '../../src/simulator';

const opts = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const sim = await startSimulator(opts);
process.stdout.write(`${JSON.stringify({ url: sim.url, port: sim.port, credentials: sim.credentials })}\n`);
process.once('SIGTERM', () => {
  void sim.close().then(() => process.exit(0));
});
