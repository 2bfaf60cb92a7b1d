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
  /** This process's CPU by kind of thread, in a difference of two readings (cpuSince; Linux only). */
  threads?: ThreadCpu;
  /**
   * Per thread id, in a reading: what cpuSince sums by kind, so that a thread that started or ended
   * between two readings is counted right.
   */
  tids?: Map<number, { kind: ThreadKind; cpuSeconds: number }>;
}

/**
 * This process's CPU split by thread, from /proc/self/task: the main thread (activities, client,
 * webhook receiver, the simulator when it has no process of its own), the SDK's workflow threads,
 * its Rust core (tokio), and the rest: V8's helper threads (garbage collection, compiling) and
 * libuv's thread pool (file system, DNS, crypto). Unlike a profile, this is CPU, not sampled time.
 */
export interface ThreadCpu {
  main: number;
  workflow: number;
  rust: number;
  helpers: number;
}

const TICKS_PER_SECOND = 100;

/** A process's (`/proc/<pid>`) or one of this process's threads' (`/proc/self/task/<tid>`) stat. */
async function statOf(
  pid: number | `self/task/${number}`,
): Promise<{ name: string; ppid: number; cpuSeconds: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the rest follows its closing parenthesis.
    const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { name, ppid, cpuSeconds: ticks / TICKS_PER_SECOND };
  } catch {
    return undefined; // gone since it was listed
  }
}

async function threadIds(): Promise<number[]> {
  if (process.platform !== 'linux') return [];
  return (await readdir('/proc/self/task').catch(() => [])).map(Number);
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

type ThreadKind = keyof ThreadCpu;

/**
 * The SDK runs workflows in Node worker threads, which Node 20 leaves unnamed ("node", like V8's and
 * libuv's threads; later versions call them "WorkerThread"), so they are told apart by when they
 * appeared: see `noteWorkflowThreads`.
 */
const workflowTids = new Set<number>();

function kindOf(tid: number, name: string): ThreadKind {
  if (tid === process.pid) return 'main';
  if (workflowTids.has(tid)) return 'workflow';
  // tokio's runtime threads, and the Core SDK's own (workflow-processing, real-time) threads.
  if (/^(tokio|workflow-proces|temporal-)/.test(name)) return 'rust';
  return 'helpers';
}

/**
 * Runs `create` (something that creates Temporal workers) and counts the unnamed threads that
 * appeared meanwhile as workflow threads. Call it after the process has used its libuv thread pool
 * (any file read), so that the pool's threads already exist.
 */
export async function noteWorkflowThreads<T>(create: () => Promise<T>): Promise<T> {
  const before = new Set(await threadIds());
  const created = await create();
  for (const tid of await threadIds()) {
    if (before.has(tid)) continue;
    const name = (await statOf(`self/task/${tid}`))?.name;
    if (name === 'node' || name === 'WorkerThread') workflowTids.add(tid);
  }
  return created;
}

/** CPU seconds of each thread of this process; undefined where /proc is not there. */
async function threadsOfThisProcess(): Promise<CpuReading['tids']> {
  if (process.platform !== 'linux') return undefined;
  const out = new Map<number, { kind: ThreadKind; cpuSeconds: number }>();
  await Promise.all(
    (await threadIds()).map(async (tid) => {
      const stat = await statOf(`self/task/${tid}`);
      if (stat) out.set(tid, { kind: kindOf(tid, stat.name), cpuSeconds: stat.cpuSeconds });
    }),
  );
  return out;
}

export async function readCpu(db: Kysely<Database>, simulatorPid?: number): Promise<CpuReading> {
  const u = process.cpuUsage();
  const tids = await threadsOfThisProcess();
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
  return { self: (u.user + u.system) / 1e6, temporal, postgres, simulator, backends, ...(tids && { tids }) };
}

/**
 * What each party spent between two readings, backend by backend and thread by thread (one gone by
 * `b` is not counted: lower bounds; the SDK's threads live as long as the worker).
 */
export function cpuSince(a: CpuReading, b: CpuReading): CpuReading {
  let postgres = 0;
  for (const [pid, s] of b.backends ?? []) postgres += s - (a.backends?.get(pid) ?? 0);
  let threads: ThreadCpu | undefined;
  if (a.tids && b.tids) {
    threads = { main: 0, workflow: 0, rust: 0, helpers: 0 };
    for (const [tid, t] of b.tids) threads[t.kind] += t.cpuSeconds - (a.tids.get(tid)?.cpuSeconds ?? 0);
  }
  return {
    self: b.self - a.self,
    temporal: b.temporal - a.temporal,
    postgres,
    simulator: b.simulator - a.simulator,
    ...(threads && { threads }),
  };
}
