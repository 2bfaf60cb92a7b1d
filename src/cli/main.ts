import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config';
import { openDatabase } from '../db/connection';
import { migrateToLatest } from '../db/migrate';
import { runDemo } from './demo-command';
import { runDev } from './dev-command';
import { describeError, UsageError } from './errors';
import { runApi } from './api-command';
import { runConnectLink } from './connect-link-command';
import { runConnections } from './connections-command';
import { runTenants } from './tenants-command';
import { runApiKeys } from './api-keys-command';
import { runSend } from './send-command';
import { runTools } from './tools-command';
import { runFaxCommand } from './fax-command';
import { runWebhookEndpointsCommand } from './webhook-endpoints-command';
import { runWorker } from '../workers/worker-main';

const HELP = `faxflow: durable fax sending through RingCentral, orchestrated by Temporal

Usage:
  faxflow demo [--to NUMBER] [--pages N] [--keep-running]
                                 run everything on embedded defaults and send one sample fax
  faxflow dev                    run the embedded stack until Ctrl-C (Temporal UI on :8233)
  faxflow send FILE... --to NUMBER [--send-at ISO] [--key IDEMPOTENCY_KEY] [--cover-text TEXT] [--wait]
                                 submit a fax to a running faxflow (TEMPORAL_ADDRESS)
  faxflow fax send|status|list|cancel|reschedule|report ...
                                 faxes over the HTTP API (FAXFLOW_API_URL, FAXFLOW_API_KEY); faxflow fax --help
  faxflow webhook-endpoints list|create|delete|rotate|enable ...
                                 where faxflow sends signed events; faxflow webhook-endpoints --help
  faxflow simulator [--port 8787] [--time-scale 1] [--no-rate-limits]
                    [--scenario calm|flaky|lossy-webhooks|ambiguous|sent-final|delivery-reports]
                    [--status-model sent-final|delivery-reports] [--interactive-authorize]
                                 run the RingCentral simulator alone
  faxflow api                    run the HTTP API and RingCentral webhook receiver (FAXFLOW_API_PORT, FAXFLOW_PUBLIC_URL)
  faxflow worker                 run a worker against TEMPORAL_ADDRESS with RingCentral credentials
  faxflow api-keys create --tenant TENANT [--name NAME] | list [--tenant TENANT] | revoke ID
                                 API keys of the HTTP API v1 (the key is printed once)
  faxflow migrate                apply database migrations (DATABASE_URL, or the embedded database)
  faxflow tools                  install the pinned Temporal binaries into the data folder (done on first use anyway)
  faxflow tenants add NAME [--id ID] | list
                                 the customers faxflow sends for (faxflow tenants --help)
  faxflow connections add-jwt --tenant ID [--jwt-file FILE] | list [--tenant ID] | rotate-key | link --tenant ID
                                 their RingCentral users; JWT from stdin or FILE (faxflow connections --help);
                                 link: a one-time link (15 min) that connects a RingCentral user to the tenant
  faxflow help                   this text

Settings come from the environment: DATABASE_URL, FAXFLOW_DATA_DIR, FAXFLOW_TOOLS_DIR, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_TASK_QUEUE, TEMPORAL_CLI_PATH, TEMPORAL_TEST_SERVER_PATH, FAXFLOW_TEMPORAL_PORT, FAXFLOW_TEMPORAL_UI_PORT, FAXFLOW_PUBLIC_URL, FAXFLOW_API_HOST, FAXFLOW_API_PORT, FAXFLOW_METRICS_HOST, FAXFLOW_METRICS_PORT, RINGCENTRAL_SERVER_URL, RINGCENTRAL_CLIENT_ID,
RINGCENTRAL_CLIENT_SECRET, RINGCENTRAL_JWT, RINGCENTRAL_DELIVERY_REPORTS, FAXFLOW_DEFAULT_REGION, FAXFLOW_ENCRYPTION_KEY, LOG_LEVEL (see README).`;

type Out = (line: string) => void;

/** On a terminal, `fax send --wait` rewrites one status line in place. */
const liveLine =
  process.stdout.isTTY === true ? (line: string) => process.stdout.write(`\r\x1b[K${line}`) : undefined;

export async function main(
  argv: string[],
  out: Out = console.log,
  err: Out = console.error,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'demo':
        return await demo(rest, out);
      case 'dev':
        parse(rest, {});
        return await runDev(out);
      case 'send':
        return await send(rest, out);
      case 'fax':
        return await runFaxCommand(rest, {
          out,
          err,
          ...(liveLine && out === console.log && { live: liveLine }),
        });
      case 'webhook-endpoints':
        return await runWebhookEndpointsCommand(rest, { out, err });
      case 'simulator':
        return await simulator(rest, out);
      case 'migrate':
        return await migrate(rest, out);
      case 'worker':
        parse(rest, {});
        return await runWorker(out);
      case 'api':
        parse(rest, {});
        return await runApi(out);
      case 'api-keys':
        return await runApiKeys(rest, out);
      case 'tools':
        parse(rest, {});
        return await runTools(out);
      case 'tenants':
        return await runTenants(rest, out);
      case 'connections':
        if (rest[0] === 'link') return await runConnectLink(rest.slice(1), out);
        return await runConnections(rest, out, { stdin });
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(HELP);
        return 0;
      default:
        throw new UsageError(
          `Unknown command "${command}"; the commands are demo, dev, send, fax, webhook-endpoints, api, api-keys, worker, simulator, migrate, tools, tenants, connections and help.`,
        );
    }
  } catch (e) {
    const { message, expected } = describeError(e);
    err(`faxflow: ${message}`);
    if (!expected && process.env.LOG_LEVEL === 'debug') err(String((e as Error).stack));
    return expected ? 2 : 1;
  }
}

type Spec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

function parse<S extends Spec>(args: string[], options: S, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\.$/, '')}; run faxflow help for the options.`);
  }
}

function intOption(
  value: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${value}".`);
  }
  return n;
}

async function demo(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    to: { type: 'string' },
    pages: { type: 'string' },
    'keep-running': { type: 'boolean' },
    timeout: { type: 'string' },
  });
  return runDemo(
    {
      to: values.to ?? '+12025550123',
      pages: intOption(values.pages, 'pages', 3, 1, 200),
      keepRunning: values['keep-running'] ?? false,
      timeoutMs: intOption(values.timeout, 'timeout', 120, 1, 86_400) * 1000,
    },
    out,
  );
}

async function send(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      to: { type: 'string' },
      'send-at': { type: 'string' },
      key: { type: 'string' },
      'cover-text': { type: 'string' },
      wait: { type: 'boolean' },
    },
    true,
  );
  if (!values.to) throw new UsageError('faxflow send needs --to NUMBER (E.164, e.g. +12025550123).');
  return runSend(
    {
      files: positionals,
      to: values.to,
      wait: values.wait ?? false,
      ...(values['send-at'] && { sendAt: values['send-at'] }),
      ...(values.key && { key: values.key }),
      ...(values['cover-text'] !== undefined && { coverPageText: values['cover-text'] }),
    },
    out,
  );
}

async function simulator(args: string[], out: Out): Promise<number> {
  const { values } = parse(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'time-scale': { type: 'string' },
    'no-rate-limits': { type: 'boolean' },
    scenario: { type: 'string' },
    'status-model': { type: 'string' },
    'interactive-authorize': { type: 'boolean' },
  });
  const port = intOption(values.port ?? process.env.SIMULATOR_PORT, 'port', 8787, 0, 65_535);
  const scaleText = values['time-scale'] ?? process.env.SIMULATOR_TIME_SCALE;
  const timeScale = scaleText === undefined ? 1 : Number(scaleText);
  if (!(timeScale > 0 && timeScale <= 1000)) {
    throw new UsageError(`--time-scale must be a number above 0 and at most 1000, not "${scaleText}".`);
  }
  const { startSimulator, scenarioFaults, scenarioStatusModel } = await import('../simulator');
  const { untilInterrupted } = await import('../workers/runtime');
  const scenario = values.scenario ?? process.env.SIMULATOR_SCENARIO ?? 'calm';
  let faults;
  let scenarioModel;
  try {
    faults = scenarioFaults(scenario);
    scenarioModel = scenarioStatusModel(scenario);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const modelText = values['status-model'] ?? process.env.SIMULATOR_STATUS_MODEL;
  if (modelText !== undefined && modelText !== 'sent-final' && modelText !== 'delivery-reports') {
    throw new UsageError(`--status-model must be sent-final or delivery-reports, not "${modelText}".`);
  }
  const statusModel = modelText ?? scenarioModel;
  const sim = await startSimulator({
    ...(statusModel && { statusModel }),
    port,
    timeScale,
    rateLimits: !values['no-rate-limits'],
    interactiveAuthorize: values['interactive-authorize'] ?? false,
    ...(values.host && { host: values.host }),
  });
  if (scenario !== 'calm') {
    await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    });
  }
  out(
    `RingCentral simulator listening on ${sim.url} (time scale ${timeScale}, scenario ${scenario}, ` +
      `status model ${statusModel ?? 'sent-final'})`,
  );
  out(
    `Credentials: client id ${sim.credentials.clientId}, JWT ${sim.credentials.jwt}; faxes: ${sim.url}/_sim/faxes`,
  );
  await untilInterrupted();
  await sim.close();
  return 0;
}

async function migrate(args: string[], out: Out): Promise<number> {
  parse(args, {});
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    const applied = await migrateToLatest(database.db);
    out(applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
    return 0;
  } finally {
    await database.close();
  }
}
