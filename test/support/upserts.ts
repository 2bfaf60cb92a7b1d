import type { WorkflowHandle } from '@temporalio/client';

/** One search-attribute upsert of a run: the attributes it set, by name (sorted), and FaxStatus's value. */
export interface Upsert {
  names: string[];
  status?: string;
}

type HistoryEvents = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events'];

/** The upserts in a run's history, in order. */
export function upsertsIn(events: HistoryEvents): Upsert[] {
  return (events ?? []).flatMap((e) => {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    if (!fields) return [];
    const status = fields.FaxStatus?.data;
    return [
      {
        names: Object.keys(fields).sort(),
        ...(status && { status: JSON.parse(Buffer.from(status).toString('utf8')) as string }),
      },
    ];
  });
}

/** The upserts of a run (the latest run of the handle's workflow unless it names one). */
export async function upsertsOf(handle: WorkflowHandle): Promise<Upsert[]> {
  return upsertsIn((await handle.fetchHistory()).events);
}
