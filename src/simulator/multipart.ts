/**
 * A real multipart parser (RFC 2046 / RFC 7578) over a fully buffered body. Handles
 * multipart/form-data and multipart/mixed, quoted boundaries, preambles and epilogues, LF-only line
 * endings, RFC 5987 `filename*=` parameters, and refuses anything it cannot frame.
 */

export interface MultipartPart {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Disposition type (`form-data`, `attachment`, `inline`), lower-cased, or undefined when absent. */
  disposition: string | undefined;
  name: string | undefined;
  filename: string | undefined;
  /** Content-Type of the part without parameters, lower-cased; undefined when absent. */
  contentType: string | undefined;
  body: Buffer;
}

export class MultipartError extends Error {}

/** Parse a header value such as `form-data; name="json"; filename="a.pdf"` into its parts. */
export function parseHeaderParams(value: string): { value: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  let i = value.indexOf(';');
  const head = (i === -1 ? value : value.slice(0, i)).trim().toLowerCase();
  while (i !== -1 && i < value.length) {
    i++;
    while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
    const eq = value.indexOf('=', i);
    const semi = value.indexOf(';', i);
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      // parameter without value: skip it
      i = semi;
      continue;
    }
    const key = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    let val: string;
    if (value[j] === '"') {
      j++;
      let out = '';
      while (j < value.length && value[j] !== '"') {
        if (value[j] === '\\' && j + 1 < value.length) j++;
        out += value[j];
        j++;
      }
      val = out;
      i = value.indexOf(';', j);
    } else {
      const end = value.indexOf(';', j);
      val = (end === -1 ? value.slice(j) : value.slice(j, end)).trim();
      i = end;
    }
    if (key) params[key] = val;
  }
  return { value: head, params };
}

function decodeRfc5987(v: string): string | undefined {
  const m = /^([\w!#$%&+^`{}~-]*)'[\w-]*'(.*)$/.exec(v);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[2] ?? '');
  } catch {
    return undefined;
  }
}

/** Extract the boundary from a Content-Type header; undefined when absent. */
export function boundaryOf(contentType: string): string | undefined {
  const { params } = parseHeaderParams(contentType);
  const b = params['boundary'];
  if (b === undefined || b.length === 0 || b.length > 200) return undefined;
  return b;
}

const CRLF = Buffer.from('\r\n');

export function parseMultipart(body: Buffer, boundary: string, maxParts = 1000): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const crlfDelimiter = Buffer.concat([CRLF, delimiter]);
  const lfDelimiter = Buffer.concat([Buffer.from('\n'), delimiter]);
  // First delimiter: at the very start, or after a line break (preamble).
  let pos: number;
  if (body.subarray(0, delimiter.length).equals(delimiter)) {
    pos = 0;
  } else {
    pos = body.indexOf(crlfDelimiter);
    if (pos === -1) {
      pos = body.indexOf(lfDelimiter);
      if (pos === -1) throw new MultipartError('opening boundary not found');
      pos += 1;
    } else {
      pos += 2;
    }
  }
  const parts: MultipartPart[] = [];
  for (;;) {
    let cursor = pos + delimiter.length;
    // close delimiter?
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return parts;
    // skip transport padding then line break
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++;
    if (body[cursor] === 0x0d && body[cursor + 1] === 0x0a) cursor += 2;
    else if (body[cursor] === 0x0a) cursor += 1;
    else throw new MultipartError('malformed boundary line');
    // headers end at an empty line
    let headerEnd: number;
    let bodyStart: number;
    if (body[cursor] === 0x0d && body[cursor + 1] === 0x0a) {
      headerEnd = cursor; // no headers at all
      bodyStart = cursor + 2;
    } else if (body[cursor] === 0x0a) {
      headerEnd = cursor;
      bodyStart = cursor + 1;
    } else {
      const crlf2 = body.indexOf('\r\n\r\n', cursor);
      // an LF-only blank line counts only if it comes before the CRLF one (never scan a whole file for it)
      const lfScanEnd = crlf2 === -1 ? Math.min(body.length, cursor + 16 * 1024) : crlf2;
      const lf2 = body.subarray(cursor, lfScanEnd).indexOf('\n\n');
      if (crlf2 !== -1 && (lf2 === -1 || crlf2 <= lf2)) {
        headerEnd = crlf2;
        bodyStart = crlf2 + 4;
      } else if (lf2 !== -1) {
        headerEnd = cursor + lf2;
        bodyStart = cursor + lf2 + 2;
      } else {
        throw new MultipartError('part headers not terminated');
      }
    }
    if (headerEnd - cursor > 16 * 1024) throw new MultipartError('part headers too large');
    const headers: Record<string, string> = {};
    const headerText = body.toString('latin1', cursor, headerEnd);
    for (const rawLine of headerText.split(/\r?\n/)) {
      if (!rawLine) continue;
      const colon = rawLine.indexOf(':');
      if (colon <= 0) throw new MultipartError(`malformed part header "${rawLine.slice(0, 60)}"`);
      const key = rawLine.slice(0, colon).trim().toLowerCase();
      // header values are UTF-8 in practice (browsers, form-data)
      const val = Buffer.from(rawLine.slice(colon + 1).trim(), 'latin1').toString('utf8');
      headers[key] = val;
    }
    // body ends at the next delimiter preceded by a line break
    const nextCrlf = body.indexOf(crlfDelimiter, bodyStart);
    let partEnd: number;
    let nextPos: number;
    if (nextCrlf !== -1) {
      partEnd = nextCrlf;
      nextPos = nextCrlf + 2;
    } else {
      const nextLf = body.indexOf(lfDelimiter, bodyStart);
      if (nextLf === -1) throw new MultipartError('closing boundary not found');
      partEnd = nextLf;
      nextPos = nextLf + 1;
    }
    const cd = headers['content-disposition'];
    let disposition: string | undefined;
    let name: string | undefined;
    let filename: string | undefined;
    if (cd !== undefined) {
      const parsed = parseHeaderParams(cd);
      disposition = parsed.value;
      name = parsed.params['name'];
      const star = parsed.params['filename*'];
      filename = (star !== undefined ? decodeRfc5987(star) : undefined) ?? parsed.params['filename'];
    }
    const ct = headers['content-type'];
    parts.push({
      headers,
      disposition,
      name,
      filename,
      contentType: ct !== undefined ? parseHeaderParams(ct).value : undefined,
      body: body.subarray(bodyStart, partEnd),
    });
    if (parts.length > maxParts) throw new MultipartError('too many parts');
    pos = nextPos;
  }
}
