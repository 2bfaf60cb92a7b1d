import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/ringcentral/redact';

describe('createRedactor', () => {
  it('removes the fixed secrets, tokens added later, JWT-shaped strings and auth header values', () => {
    const redact = createRedactor(['client-secret-123456', 'short']);
    redact.add('acc-0123456789abcdef', undefined, '');
    const text = redact(
      'secret client-secret-123456, token acc-0123456789abcdef, jwt eyJhbGciOi.eyJzdWIi.c2ln, ' +
        'Authorization: Bearer abc.def-ghi, Basic Y2xpZW50OnNlY3JldA==, word short',
    );
    expect(text).toBe(
      'secret [redacted], token [redacted], jwt [redacted], ' +
        'Authorization: Bearer [redacted], Basic [redacted], word short',
    );
  });

  it('forgets the oldest tokens past its bound, never the fixed secrets', () => {
    const redact = createRedactor(['fixed-secret-0000']);
    for (let i = 0; i < 40; i++) redact.add(`token-${String(i).padStart(4, '0')}`);
    expect(redact('token-0000 token-0039 fixed-secret-0000')).toBe('token-0000 [redacted] [redacted]');
  });
});
