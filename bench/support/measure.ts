import type { Client } from '@temporalio/client';

/**
 * Temporal actions as Temporal Cloud bills them, counted from a workflow's history: the start, every
 * scheduled activity, timer, signal received and search-attribute upsert. (Activity retries are
 * billed too but leave no event of their own: they are counted from `ActivityTaskStarted.attempt`.)
 */
export interface ActionCounts {
  start: number;
  activities: number;
  timers: number;
  signals: number;
  upserts: number;
  /** Activity attempts beyond the first (retries), from the recorded attempt numbers. */
  activityRetries: number;
  /** Continue-as-new and child starts would also bill; FaxWorkflow rarely does either. */
  continueAsNew: number;
  events: number;
  byActivity: Record<string, number>;
  /** Activities scheduled after the first signal (a fax: the steps after its status webhook). */
  activitiesAfterSignal: number;
}

export const actionTotal = (c: ActionCounts): number =>
  c.start + c.activities + c.timers + c.signals + c.upserts + c.continueAsNew;

export function emptyCounts(): ActionCounts {
  return {
    start: 0,
    activities: 0,
    timers: 0,
    signals: 0,
    upserts: 0,
    activityRetries: 0,
    activitiesAfterSignal: 0,
    continueAsNew: 0,
    events: 0,
    byActivity: {},
  };
}

interface HistoryEvent {
  workflowExecutionStartedEventAttributes?: unknown;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  activityTaskStartedEventAttributes?: { attempt?: number | null } | null;
  timerStartedEventAttributes?: unknown;
  workflowExecutionSignaledEventAttributes?: unknown;
  upsertWorkflowSearchAttributesEventAttributes?: unknown;
  workflowExecutionContinuedAsNewEventAttributes?: unknown;
}

export function countHistory(events: HistoryEvent[], into: ActionCounts = emptyCounts()): ActionCounts {
  let signalled = false;
  for (const e of events) {
    into.events++;
    if (e.workflowExecutionStartedEventAttributes) into.start++;
    if (e.activityTaskScheduledEventAttributes) {
      into.activities++;
      if (signalled) into.activitiesAfterSignal++;
      const name = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      into.byActivity[name] = (into.byActivity[name] ?? 0) + 1;
    }
    if (e.activityTaskStartedEventAttributes)
      into.activityRetries += Math.max(0, (e.activityTaskStartedEventAttributes.attempt ?? 1) - 1);
    if (e.timerStartedEventAttributes) into.timers++;
    if (e.workflowExecutionSignaledEventAttributes) {
      into.signals++;
      signalled = true;
    }
    if (e.upsertWorkflowSearchAttributesEventAttributes) into.upserts++;
    if (e.workflowExecutionContinuedAsNewEventAttributes) into.continueAsNew++;
  }
  return into;
}

/** Counts every run of a workflow id (continue-as-new included), through visibility. */
export async function countWorkflowRuns(client: Client, workflowId: string): Promise<ActionCounts> {
  const counts = emptyCounts();
  const runIds = new Set<string>();
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    runIds.add(wf.runId);
  if (runIds.size === 0) runIds.add(''); // visibility lag: at least the latest run
  for (const runId of runIds) {
    const history = await client.workflow.getHandle(workflowId, runId || undefined).fetchHistory();
    countHistory((history.events ?? []) as HistoryEvent[], counts);
  }
  return counts;
}

/** One history per workflow id (latest run), `concurrency` at a time. */
export async function countWorkflows(
  client: Client,
  workflowIds: string[],
  concurrency = 8,
): Promise<Map<string, ActionCounts>> {
  const out = new Map<string, ActionCounts>();
  let next = 0;
  const worker = async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++]!;
      const history = await client.workflow.getHandle(id).fetchHistory();
      out.set(id, countHistory((history.events ?? []) as HistoryEvent[]));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

export function sumCounts(all: Iterable<ActionCounts>): ActionCounts {
  const s = emptyCounts();
  for (const c of all) {
    s.start += c.start;
    s.activities += c.activities;
    s.timers += c.timers;
    s.signals += c.signals;
    s.upserts += c.upserts;
    s.activityRetries += c.activityRetries;
    s.activitiesAfterSignal += c.activitiesAfterSignal;
    s.continueAsNew += c.continueAsNew;
    s.events += c.events;
    for (const [k, v] of Object.entries(c.byActivity)) s.byActivity[k] = (s.byActivity[k] ?? 0) + v;
  }
  return s;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function stats(values: number[]): { n: number; mean: number; min: number; max: number } {
  if (values.length === 0) return { n: 0, mean: NaN, min: NaN, max: NaN };
  return {
    n: values.length,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

export function diffCounts(after: Record<string, number>, before: Record<string, number>) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

export const fmt = (v: number, digits = 2): string =>
  Number.isNaN(v) ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(digits);

/** Prints a left-aligned text table with a title. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(cells[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}
