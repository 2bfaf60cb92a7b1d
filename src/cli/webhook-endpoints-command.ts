import { V1_EVENT_TYPES, type V1EventType } from '../contracts/v1-api';
import { UsageError } from './errors';
import { parseCommand, type CliIo } from './fax-command';
import { clientFromEnv, EXIT, EXIT_CODES_HELP, table, withApiErrors } from './fax-http';

export const WEBHOOK_ENDPOINTS_HELP = `faxflow webhook-endpoints: where faxflow sends signed events (FAXFLOW_API_URL, FAXFLOW_API_KEY)

Usage:
  faxflow webhook-endpoints list [--json]
  faxflow webhook-endpoints create --url URL [--events TYPE,TYPE...] [--description TEXT] [--json]
                                  prints the signing secret (whsec_...) once: keep it
  faxflow webhook-endpoints delete ID
  faxflow webhook-endpoints rotate ID [--json]
                                  new secret; the old one keeps signing for 24 h
  faxflow webhook-endpoints enable ID [--json]
                                  turn an endpoint disabled after a day of failures back on

Event types: ${V1_EVENT_TYPES.join(', ')} (default: all).

${EXIT_CODES_HELP}`;

export async function runWebhookEndpointsCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...args] = argv;
  if (sub === undefined) {
    throw new UsageError(
      `faxflow webhook-endpoints needs a command: list, create, delete, rotate or enable (faxflow webhook-endpoints --help).`,
    );
  }
  if (sub === 'help' || sub === '--help' || sub === '-h' || args.includes('--help') || args.includes('-h')) {
    io.out(WEBHOOK_ENDPOINTS_HELP);
    return EXIT.ok;
  }
  const parse = (options: Parameters<typeof parseCommand>[1]) =>
    parseCommand(args, options, 'faxflow webhook-endpoints');
  const oneId = (positionals: string[]) => {
    if (positionals.length !== 1)
      throw new UsageError(`faxflow webhook-endpoints ${sub} needs exactly one endpoint id.`);
    return positionals[0]!;
  };
  switch (sub) {
    case 'list': {
      const { values, positionals } = parse({});
      if (positionals.length > 0)
        throw new UsageError('faxflow webhook-endpoints list takes no positional arguments.');
      const client = clientFromEnv(io.env);
      return withApiErrors(io.err, async () => {
        const endpoints = await client.listWebhookEndpoints();
        if (values.json) {
          for (const e of endpoints) io.out(JSON.stringify(e));
        } else if (endpoints.length === 0) {
          io.out('No webhook endpoints.');
        } else {
          io.out(
            table([
              ['ID', 'URL', 'STATUS', 'EVENTS'],
              ...endpoints.map((e) => [
                e.id,
                e.url,
                e.status === 'disabled'
                  ? `disabled (${e.disabledReason ?? ''})`
                  : e.failingSince
                    ? `failing since ${e.failingSince}`
                    : e.status,
                e.events.join(','),
              ]),
            ]),
          );
        }
        return EXIT.ok;
      });
    }
    case 'create': {
      const { values, positionals } = parse({
        url: { type: 'string' },
        events: { type: 'string' },
        description: { type: 'string' },
      });
      if (positionals.length > 0)
        throw new UsageError('faxflow webhook-endpoints create takes --url, not positional arguments.');
      if (typeof values.url !== 'string')
        throw new UsageError('faxflow webhook-endpoints create needs --url URL.');
      const events =
        typeof values.events === 'string'
          ? values.events
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [...V1_EVENT_TYPES];
      const unknown = events.filter((e) => !(V1_EVENT_TYPES as readonly string[]).includes(e));
      if (unknown.length > 0) {
        throw new UsageError(
          `Unknown event type ${JSON.stringify(unknown[0])}; the types are ${V1_EVENT_TYPES.join(', ')}.`,
        );
      }
      const client = clientFromEnv(io.env);
      return withApiErrors(io.err, async () => {
        const e = await client.createWebhookEndpoint({
          url: values.url as string,
          events: events as V1EventType[],
          ...(typeof values.description === 'string' && { description: values.description }),
        });
        if (values.json) io.out(JSON.stringify(e));
        else {
          io.out(`Created ${e.id} -> ${e.url} (${e.events.join(', ')})`);
          io.out(`Signing secret (shown once, keep it): ${e.secret}`);
        }
        return EXIT.ok;
      });
    }
    case 'delete': {
      const { positionals } = parse({});
      const id = oneId(positionals);
      const client = clientFromEnv(io.env);
      return withApiErrors(io.err, async () => {
        await client.deleteWebhookEndpoint(id);
        io.out(`Deleted ${id}`);
        return EXIT.ok;
      });
    }
    case 'rotate': {
      const { values, positionals } = parse({});
      const id = oneId(positionals);
      const client = clientFromEnv(io.env);
      return withApiErrors(io.err, async () => {
        const e = await client.rotateWebhookSecret(id);
        if (values.json) io.out(JSON.stringify(e));
        else {
          io.out(`New signing secret for ${e.id} (shown once): ${e.secret}`);
          io.out(`The previous secret keeps signing until ${e.previousSecretExpiresAt ?? 'now'}.`);
        }
        return EXIT.ok;
      });
    }
    case 'enable': {
      const { values, positionals } = parse({});
      const id = oneId(positionals);
      const client = clientFromEnv(io.env);
      return withApiErrors(io.err, async () => {
        const e = await client.enableWebhookEndpoint(id);
        io.out(values.json ? JSON.stringify(e) : `Enabled ${e.id} -> ${e.url}`);
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(
        `Unknown webhook-endpoints command "${sub}"; the commands are list, create, delete, rotate and enable.`,
      );
  }
}
