import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { FaxflowClient } from '../client/http';
import type { V1Fax } from '../contracts/v1-api';
import { UsageError } from './errors';
import {
  clientFromEnv,
  EXIT,
  EXIT_CODES_HELP,
  exitCodeFor,
  statusLine,
  table,
  withApiErrors,
} from './fax-http';

export const FAX_HELP = `faxflow fax: faxes over the HTTP API (FAXFLOW_API_URL, FAXFLOW_API_KEY)

Usage:
  faxflow fax send FILE... --to NUMBER [--to NUMBER...] [--send-at ISO] [--key IDEMPOTENCY_KEY]
                   [--cover-text TEXT] [--metadata KEY=VALUE...] [--wait [--timeout SECONDS]] [--json]
                                  submit a fax (several --to: a broadcast); --wait shows a live status
                                  line (status, attempt, next redial and when) until it ends
  faxflow fax status ID [--json]  where a fax stands
  faxflow fax list [--status S] [--recipient NUMBER] [--limit N] [--json]
                                  your faxes, newest first (a table; --json: one object per line)
  faxflow fax cancel ID [--json]  cancel a fax not yet transmitted
  faxflow fax reschedule ID --send-at ISO [--json]
                                  move the send time of a fax not yet transmitted
  faxflow fax report ID [--out FILE]
                                  save the transmission report PDF (default fax-ID-report.pdf)

The top-level "faxflow send" talks to Temporal directly (TEMPORAL_ADDRESS) for operators on the
cluster; "faxflow fax ..." is the API client for everyone else.

${EXIT_CODES_HELP}`;

type Out = (line: string) => void;

export interface CliIo {
  out: Out;
  err: Out;
  /** Rewrites one status line in place (a TTY); default: a new line per change through `out`. */
  live?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

type Spec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parseCommand(
  args: string[],
  options: Spec,
  help: string,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\.$/, '')}; run ${help} --help.`);
  }
}

const parse = (args: string[], options: Spec) => parseCommand(args, options, 'faxflow fax');

function oneId(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`faxflow fax ${command} needs exactly one fax id.`);
  return positionals[0]!;
}

function isoOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new UsageError(
      `--${name} must be an ISO 8601 time such as 2030-01-31T09:00:00Z, not ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

export async function runFaxCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...args] = argv;
  if (sub === undefined)
    throw new UsageError(
      `faxflow fax needs a command: ${'send, status, list, cancel, reschedule or report'} (faxflow fax --help).`,
    );
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    io.out(FAX_HELP);
    return EXIT.ok;
  }
  const commands: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
    send,
    status,
    list,
    cancel,
    reschedule,
    report,
  };
  const run = commands[sub];
  if (!run)
    throw new UsageError(
      `Unknown fax command "${sub}"; the commands are ${Object.keys(commands).join(', ')}.`,
    );
  if (args.includes('--help') || args.includes('-h')) {
    io.out(FAX_HELP);
    return EXIT.ok;
  }
  return run(args, io);
}

const print = (io: CliIo, json: boolean | undefined, value: unknown, human: string) =>
  io.out(json ? JSON.stringify(value) : human);

async function send(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    to: { type: 'string', multiple: true },
    'send-at': { type: 'string' },
    key: { type: 'string' },
    'cover-text': { type: 'string' },
    metadata: { type: 'string', multiple: true },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
  });
  const to = (values.to as string[] | undefined) ?? [];
  if (to.length === 0) throw new UsageError('faxflow fax send needs --to NUMBER (E.164, e.g. +12025550123).');
  if (positionals.length === 0 && values['cover-text'] === undefined) {
    throw new UsageError('faxflow fax send needs at least one file: faxflow fax send FILE... --to NUMBER.');
  }
  const metadata: Record<string, string> = {};
  for (const kv of (values.metadata as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new UsageError(`--metadata takes KEY=VALUE, not ${JSON.stringify(kv)}.`);
    metadata[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const timeoutS = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutS !== undefined && !(Number.isFinite(timeoutS) && timeoutS > 0)) {
    throw new UsageError(
      `--timeout must be a number of seconds above 0, not ${JSON.stringify(values.timeout)}.`,
    );
  }
  if (to.length > 1 && values.wait)
    throw new UsageError('--wait follows one fax; a broadcast (several --to) cannot be waited for here.');
  const client = clientFromEnv(io.env);
  return withApiErrors(io.err, async () => {
    const res = await client.sendFax({
      to: to.length === 1 ? to[0]! : to,
      files: positionals,
      ...(values['cover-text'] !== undefined && { coverPageText: values['cover-text'] as string }),
      ...(values['send-at'] !== undefined && { sendAt: isoOption(values['send-at'], 'send-at') }),
      ...(values.key !== undefined && { idempotencyKey: values.key as string }),
      ...(Object.keys(metadata).length > 0 && { metadata }),
    });
    for (const fax of res.faxes) {
      print(
        io,
        values.json as boolean,
        fax,
        `${res.replayed ? 'Already submitted' : 'Submitted'}: ${fax.id} to ${fax.to} (${fax.status})`,
      );
    }
    if (res.broadcastId && !values.json) io.out(`Broadcast ${res.broadcastId}: ${res.faxes.length} faxes`);
    if (!values.wait) return EXIT.ok;
    return waitAndReport(client, res.faxes[0]!.id, io, values.json as boolean | undefined, timeoutS);
  });
}

async function waitAndReport(
  client: FaxflowClient,
  id: string,
  io: CliIo,
  json: boolean | undefined,
  timeoutS?: number,
): Promise<number> {
  let last = '';
  const show = (fax: V1Fax) => {
    if (json) return;
    const line = statusLine(fax);
    if (line === last) return;
    last = line;
    (io.live ?? io.out)(line);
  };
  try {
    const fax = await client.waitForFax(id, {
      onUpdate: show,
      ...(timeoutS !== undefined && { timeoutMs: timeoutS * 1000 }),
    });
    if (io.live && !json) io.live('');
    print(io, json, fax, statusLine(fax));
    return exitCodeFor(fax);
  } catch (e) {
    if ((e as { code?: string }).code === 'TIMEOUT') {
      io.err(`faxflow: ${(e as Error).message}`);
      return EXIT.timeout;
    }
    throw e;
  }
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {});
  const id = oneId(positionals, 'status');
  const client = clientFromEnv(io.env);
  return withApiErrors(io.err, async () => {
    const fax = await client.getFax(id);
    print(io, values.json as boolean, fax, statusLine(fax));
    return exitCodeFor(fax);
  });
}

async function list(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    status: { type: 'string' },
    recipient: { type: 'string' },
    limit: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError('faxflow fax list takes no positional arguments.');
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new UsageError(
      `--limit must be a whole number from 1 to 10000, not ${JSON.stringify(values.limit)}.`,
    );
  }
  const client = clientFromEnv(io.env);
  return withApiErrors(io.err, async () => {
    const rows = [['ID', 'TO', 'STATUS', 'ATTEMPTS', 'CREATED', 'COMPLETED']];
    let n = 0;
    for await (const fax of client.listFaxes({
      limit: Math.min(limit, 100),
      ...(values.status !== undefined && { status: values.status as string }),
      ...(values.recipient !== undefined && { recipient: values.recipient as string }),
    })) {
      if (values.json) io.out(JSON.stringify(fax));
      else
        rows.push([
          fax.id,
          fax.to,
          fax.status,
          String(fax.attempts.length),
          fax.createdAt.slice(0, 19),
          fax.completedAt?.slice(0, 19) ?? '',
        ]);
      if (++n >= limit) break;
    }
    if (!values.json) io.out(n === 0 ? 'No faxes.' : table(rows));
    return EXIT.ok;
  });
}

async function cancel(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {});
  const id = oneId(positionals, 'cancel');
  const client = clientFromEnv(io.env);
  return withApiErrors(io.err, async () => {
    const fax = await client.cancelFax(id);
    print(io, values.json as boolean, fax, `Canceled: ${statusLine(fax)}`);
    return EXIT.ok;
  });
}

async function reschedule(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { 'send-at': { type: 'string' } });
  const id = oneId(positionals, 'reschedule');
  const sendAt = isoOption(values['send-at'], 'send-at');
  const client = clientFromEnv(io.env);
  return withApiErrors(io.err, async () => {
    const fax = await client.rescheduleFax(id, sendAt);
    print(io, values.json as boolean, fax, `Rescheduled ${fax.id} to ${fax.sendAt ?? sendAt}`);
    return EXIT.ok;
  });
}

async function report(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string', short: 'o' } });
  const id = oneId(positionals, 'report');
  const file = (values.out as string | undefined) ?? `fax-${id.replace(/[^A-Za-z0-9._-]/g, '_')}-report.pdf`;
  const client = clientFromEnv(io.env);
  return withApiErrors(io.err, async () => {
    const pdf = await client.getReport(id);
    await writeFile(file, pdf);
    print(
      io,
      values.json as boolean,
      { id, file, bytes: pdf.length },
      `Saved the transmission report of ${id} to ${file} (${pdf.length} bytes)`,
    );
    return EXIT.ok;
  });
}
