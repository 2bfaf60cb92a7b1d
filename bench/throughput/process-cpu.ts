/**
 * CPU seconds spent so far by the parties of a benchmark run on this machine: this process
 * (workers, client, webhook receiver, and the simulator unless it has a process of its own), the
 * Temporal server it started, the PostgreSQL backends serving its scratch database, and the
 * simulator's process. Read from /proc (Linux), so a phase's cost is
 * the difference of two readings. The ratio of two pipelines on a CPU-bound 2-core machine is the
 * ratio of what each costs per item, so this says which party to look at first.
 */
import { readdir, readFile } from 'node:fs/promises';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/db/schema';

export interface CpuReading {
  self: number;
  temporal: number;
  postgres: number;
  /** The RingCentral simulator, when it runs in a process of its own (else it is part of `self`). */
  simulator: number;
  /** Per backend, so that a backend that started or ended between two readings is counted right. */
  backends?: Map<number, number>;
}

const TICKS_PER_SECOND = 100;

async function statOf(pid: number): Promise<{ ppid: number; cpuSeconds: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the rest follows its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { ppid, cpuSeconds: ticks / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** Every process descended from this one whose command line names the Temporal CLI. */
async function temporalPids(): Promise<number[]> {
  if (process.platform !== 'linux') return [];
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number);
  const parents = new Map<number, number>();
  await Promise.all(
    pids.map(async (pid) => {
      const s = await statOf(pid);
      if (s) parents.set(pid, s.ppid);
    }),
  );
  const descends = (pid: number): boolean => {
    for (let p = parents.get(pid), hops = 0; p !== undefined && hops < 16; p = parents.get(p), hops++) {
      if (p === process.pid) return true;
    }
    return false;
  };
  const out: number[] = [];
  for (const pid of pids) {
    if (!descends(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('temporal')) out.push(pid);
  }
  return out;
}

export async function readCpu(db: Kysely<Database>, simulatorPid?: number): Promise<CpuReading> {
  const u = process.cpuUsage();
  let temporal = 0;
  for (const pid of await temporalPids()) temporal += (await statOf(pid))?.cpuSeconds ?? 0;
  // The backends alive now: a pool keeps its connections, so a phase's backends are mostly the same.
  const { rows } = await sql<{
    pid: number;
  }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
  const backends = new Map<number, number>();
  for (const r of rows) backends.set(Number(r.pid), (await statOf(Number(r.pid)))?.cpuSeconds ?? 0);
  const postgres = [...backends.values()].reduce((x, y) => x + y, 0);
  const simulator = simulatorPid === undefined ? 0 : ((await statOf(simulatorPid))?.cpuSeconds ?? 0);
  return { self: (u.user + u.system) / 1e6, temporal, postgres, simulator, backends };
}

/** What each party spent between two readings (a backend gone by `b` is not counted: a lower bound). */
export function cpuSince(a: CpuReading, b: CpuReading): CpuReading {
  let postgres = 0;
  for (const [pid, s] of b.backends ?? []) postgres += s - (a.backends?.get(pid) ?? 0);
  return {
    self: b.self - a.self,
    temporal: b.temporal - a.temporal,
    postgres,
    simulator: b.simulator - a.simulator,
  };
}
