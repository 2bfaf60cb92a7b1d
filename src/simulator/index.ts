/**
 * RingCentral API simulator (fax, message store, OAuth, subscriptions/webhooks, rate limits, faults).
 * See docs/simulator.md.
 */
import { Simulator } from './server';
import type { SimulatorOptions } from './options';

export type { SimulatorAccount, SimulatorOptions, SimulatorUser } from './options';
export { MAGIC } from './outcomes';
export type { SimFax } from './sim-control';
export type { FaultConfig } from './faults';
export { SCENARIOS, scenarioFaults, scenarioStatusModel } from './scenarios';
export type { StatusModel } from './outcomes';
export type { UserFlags } from './options';

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  port: number;
  credentials: { clientId: string; clientSecret: string; jwt: string };
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const sim = new Simulator(opts);
  await sim.listen();
  let closing: Promise<void> | undefined;
  return {
    url: sim.url,
    port: sim.port,
    credentials: { clientId: sim.opts.clientId, clientSecret: sim.opts.clientSecret, jwt: sim.opts.jwt },
    close: () => (closing ??= sim.close()),
  };
}
