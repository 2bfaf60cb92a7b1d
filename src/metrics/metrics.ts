import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process: the API, a worker, or `faxflow dev` running both. Instruments are
 * module-level on purpose: what they count happens in repositories and wrappers that every
 * process shares, and Prometheus sums the series of all processes itself.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export const PROMETHEUS_CONTENT_TYPE = metricsRegistry.contentType;

export const faxesFinal = new Counter({
  name: 'faxflow_faxes_final_total',
  help: 'Fax jobs that reached a final status, by status and tenant (counted where the status is written).',
  labelNames: ['status', 'tenant'] as const,
  registers: [metricsRegistry],
});

export const faxLatency = new Histogram({
  name: 'faxflow_fax_latency_seconds',
  help: 'From submission (job created) to its final status, by final status.',
  labelNames: ['status'] as const,
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 4 * 3_600, 24 * 3_600],
  registers: [metricsRegistry],
});

export const ringCentralCalls = new Counter({
  name: 'faxflow_ringcentral_calls_total',
  help: 'Calls that reached RingCentral, by rate-limit group, call and outcome (ok, rate_limited, error).',
  labelNames: ['group', 'call', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const ringCentralRateLimited = new Counter({
  name: 'faxflow_ringcentral_429_total',
  help: 'RingCentral answers 429 (rate limited), by rate-limit group. Should stay 0: the budgets exist to avoid them.',
  labelNames: ['group'] as const,
  registers: [metricsRegistry],
});

export const ringCentralCallDuration = new Histogram({
  name: 'faxflow_ringcentral_call_duration_seconds',
  help: 'Duration of one RingCentral call (a fax send includes its upload), by call.',
  labelNames: ['call'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
  registers: [metricsRegistry],
});

export const webhookLag = new Histogram({
  name: 'faxflow_webhook_lag_seconds',
  help: "From a RingCentral notification's timestamp to the moment it is stored (or covered by a stored one).",
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [metricsRegistry],
});

export const budgetWait = new Histogram({
  name: 'faxflow_rate_budget_wait_seconds',
  help: 'Time a call waited for its reserved slot in the shared rate budget, by rate-limit group.',
  labelNames: ['group'] as const,
  buckets: [0, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60],
  registers: [metricsRegistry],
});

export const budgetExhausted = new Counter({
  name: 'faxflow_rate_budget_exhausted_total',
  help: 'Calls refused by the shared rate budget (no slot within the wait allowed; retried later), by group.',
  labelNames: ['group'] as const,
  registers: [metricsRegistry],
});

export const httpRequests = new Counter({
  name: 'faxflow_http_requests_total',
  help: 'HTTP requests answered by the API, by method, route and status code.',
  labelNames: ['method', 'route', 'code'] as const,
  registers: [metricsRegistry],
});

export const httpDuration = new Histogram({
  name: 'faxflow_http_request_duration_seconds',
  help: 'Time to answer an HTTP request of the API, by method and route.',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

/** A job's final status was written (once per job: the write never reopens a finished job). */
export function observeFinalFaxJob(job: {
  status: string;
  tenantId: string | null;
  submittedAt: Date;
  completedAt: Date;
}): void {
  faxesFinal.inc({ status: job.status, tenant: job.tenantId ?? '' });
  const seconds = (job.completedAt.getTime() - job.submittedAt.getTime()) / 1000;
  if (seconds >= 0) faxLatency.observe({ status: job.status }, seconds);
}

/**
 * A notification's lag once stored (or covered by a stored one); RingCentral's `timestamp` is ISO
 * 8601. Missing or bad: not observed.
 */
export function observeWebhookLag(timestamp: unknown, storedAt = Date.now()): void {
  if (typeof timestamp !== 'string') return;
  const sent = Date.parse(timestamp);
  if (Number.isNaN(sent)) return;
  // A clock ahead of ours would give a negative lag: it is no lag at all.
  webhookLag.observe(Math.max(0, storedAt - sent) / 1000);
}

export async function metricsText(): Promise<string> {
  return metricsRegistry.metrics();
}
