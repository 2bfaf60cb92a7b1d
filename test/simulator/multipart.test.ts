import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundaryOf, MultipartError, parseHeaderParams, parseMultipart } from '../../src/simulator/multipart';

const build = (
  boundary: string,
  parts: Array<{ name: string; filename?: string; body: Uint8Array }>,
  eol = '\r\n',
): Buffer =>
  Buffer.concat([
    Buffer.from(`preamble${eol}`),
    ...parts.flatMap((p) => [
      Buffer.from(
        `--${boundary}${eol}Content-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}${eol}` +
          `Content-Type: application/octet-stream${eol}${eol}`,
      ),
      Buffer.from(p.body),
      Buffer.from(eol),
    ]),
    Buffer.from(`--${boundary}--${eol}epilogue`),
  ]);

/** 'parsed', 'MultipartError', or the unexpected error itself (so an assertion on it can fail). */
function outcome(fn: () => unknown): unknown {
  try {
    fn();
    return 'parsed';
  } catch (e) {
    return e instanceof MultipartError ? 'MultipartError' : e;
  }
}

describe('multipart parser', () => {
  it('round-trips arbitrary binary parts (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9'()+_,.-]{1,60}$/),
        fc.array(
          fc.record({ name: fc.stringMatching(/^[a-z]{1,8}$/), body: fc.uint8Array({ maxLength: 300 }) }),
          { minLength: 1, maxLength: 5 },
        ),
        (boundary, parts) => {
          const body = build(boundary, parts);
          // a boundary must not occur inside the content (RFC 2046); skip the rare generated collisions
          fc.pre(parts.every((p) => !Buffer.from(p.body).includes(`--${boundary}`)));
          const parsed = parseMultipart(body, boundary);
          expect(parsed.map((p) => [p.name, Buffer.from(p.body).toString('hex')])).toEqual(
            parts.map((p) => [p.name, Buffer.from(p.body).toString('hex')]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts LF-only line endings', () => {
    const parsed = parseMultipart(
      build('xyz', [{ name: 'a', filename: 'f.txt', body: Buffer.from('hi') }], '\n'),
      'xyz',
    );
    expect(parsed[0]).toMatchObject({ name: 'a', filename: 'f.txt' });
    expect(parsed[0]?.body.toString()).toBe('hi');
  });

  it('reads quoted boundaries, RFC 5987 filenames and escaped quotes', () => {
    expect(boundaryOf('multipart/mixed; boundary="a b:c"')).toBe('a b:c');
    expect(boundaryOf('multipart/mixed')).toBeUndefined();
    expect(parseHeaderParams(`attachment; filename*=UTF-8''na%C3%AFve.pdf`).params['filename*']).toBe(
      "UTF-8''na%C3%AFve.pdf",
    );
    const body = Buffer.from(
      `--b\r\nContent-Disposition: attachment; filename*=UTF-8''na%C3%AFve.pdf\r\n\r\nx\r\n--b--`,
    );
    expect(parseMultipart(body, 'b')[0]?.filename).toBe('naïve.pdf');
    expect(parseHeaderParams('form-data; name="a\\"b"').params['name']).toBe('a"b');
  });

  it('throws MultipartError on truncated or unframed bodies, never anything else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(['parsed', 'MultipartError']).toContain(
          outcome(() => parseMultipart(Buffer.from(bytes), 'bnd')),
        );
      }),
      { numRuns: 500 },
    );
    const good = build('q', [{ name: 'a', body: Buffer.from('hello') }]);
    expect(outcome(() => parseMultipart(good, 'q'))).toBe('parsed');
    // a body cut before its closing delimiter is always refused, never half-parsed
    for (let cut = 0; cut < good.length - 12; cut += 7)
      expect(outcome(() => parseMultipart(good.subarray(0, cut), 'q'))).toBe('MultipartError');
  });
});
