import { ApiError } from '../errors';

/** Opaque page cursors: base64url JSON of string fields. Tenant filters still apply to every page. */
export function encodeCursor(fields: Record<string, string>): string {
  return Buffer.from(JSON.stringify(fields), 'utf8').toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string, keys: readonly K[]): Record<K, string> {
  const bad = new ApiError(
    400,
    'INVALID_CURSOR',
    'The cursor is not one this API returned; start again without it.',
  );
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw bad;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad;
  const obj = value as Record<string, unknown>;
  if (Object.keys(obj).length !== keys.length) throw bad;
  for (const k of keys) if (typeof obj[k] !== 'string' || (obj[k] as string).length > 200) throw bad;
  if ('createdUs' in obj && !/^\d{1,20}$/.test(obj['createdUs'] as string)) throw bad;
  return obj as Record<K, string>;
}
