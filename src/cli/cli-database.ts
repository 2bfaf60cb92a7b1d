import { parseArgs } from 'node:util';
import { UsageError } from './errors';
import { loadConfig, type Config } from '../config/config';
import { openDatabase, type DatabaseHandle } from '../db/connection';
import { migrateToLatest } from '../db/migrate';

/** Opens the configured database (migrated) for a short CLI command, and closes it afterwards. */
export async function withCliDatabase<T>(
  run: (database: DatabaseHandle, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await migrateToLatest(database.db);
    return await run(database, config);
  } finally {
    await database.close();
  }
}

/** Left-aligned columns, for lists people read. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

type Spec = Record<string, { type: 'string' | 'boolean' }>;

/** Parses a subcommand's options (plus --help); a mistake is a UsageError ending with the usage. */
export function parseCommand(
  args: string[],
  options: Spec,
  usage: string,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return {
      values: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
    };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\.$/, '')}.\n${usage}`);
  }
}
