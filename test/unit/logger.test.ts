import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { PinoTemporalLogger } from '../../src/workers/temporal-logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('redacts secret-looking fields at the top level and nested', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    logger.info(
      {
        jwt: 'eyJ-top',
        clientSecret: 'cs-top',
        verificationToken: 'vt-top',
        token: { access_token: 'at-1', refresh_token: 'rt-1' },
        err: { config: { headers: { authorization: 'Bearer abc' } } },
        subscription: { id: 'sub-1', verificationToken: 'vt-nested' },
      },
      'hello',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['eyJ-top', 'cs-top', 'vt-top', 'at-1', 'rt-1', 'Bearer abc', 'vt-nested'])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      msg: 'hello',
      subscription: { id: 'sub-1', verificationToken: '[redacted]' },
    });
  });

  it('redacts a webhook endpoint row and a signing secret logged by mistake', () => {
    const { lines, stream } = capture();
    createLogger('info', stream).info(
      {
        secret: 'whsec_top',
        endpoint: {
          id: 'we_1',
          secret: 'whsec_row',
          previous_secret: 'whsec_prev',
          secret_ciphertext: 'sealed',
        },
      },
      'oops',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['whsec_top', 'whsec_row', 'whsec_prev', 'sealed'])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({ endpoint: { id: 'we_1', secret: '[redacted]' } });
  });
});

describe('PinoTemporalLogger', () => {
  it("writes the SDK's lines through pino at the matching level, with the error under err", () => {
    const { lines, stream } = capture();
    const logger = new PinoTemporalLogger(createLogger('warn', stream));
    logger.info('Worker state changed', { sdkComponent: 'worker' });
    logger.warn('Activity failed', {
      sdkComponent: 'activity',
      activityType: 'sendFax',
      error: new Error('boom'),
      [Symbol('timestamp')]: 1n,
      timestampNanos: 1n,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: 'Activity failed',
      sdkComponent: 'activity',
      activityType: 'sendFax',
      err: { message: 'boom' },
    });
  });

  it('redacts secrets in SDK metadata too', () => {
    const { lines, stream } = capture();
    const logger = new PinoTemporalLogger(createLogger('info', stream));
    logger.error('Activity failed', { args: { authorization: 'Bearer xyz' } });
    expect(JSON.stringify(lines)).not.toContain('Bearer xyz');
  });
});
