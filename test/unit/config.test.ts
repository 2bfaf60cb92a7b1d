import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config';

describe('loadConfig', () => {
  it('defaults to the embedded stack and freezes the result', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      ringcentral: undefined,
      taskQueue: 'faxflow',
      defaultRegion: 'US',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes complete RingCentral credentials, with the production server by default', () => {
    const config = loadConfig({
      RINGCENTRAL_CLIENT_ID: 'id',
      RINGCENTRAL_CLIENT_SECRET: 's3cret',
      RINGCENTRAL_JWT: 'jwt',
    });
    expect(config.ringcentral?.serverUrl).toBe('https://platform.ringcentral.com');
  });

  it('names what is missing when credentials are partial, without echoing secrets', () => {
    const attempt = () => loadConfig({ RINGCENTRAL_CLIENT_ID: 'id', RINGCENTRAL_CLIENT_SECRET: 'hunter2' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/RINGCENTRAL_JWT is missing/);
    try {
      attempt();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects malformed values with the variable name and what is allowed', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(
      'DATABASE_URL must be a postgres:// or postgresql:// connection URL.',
    );
    expect(() => loadConfig({ FAXFLOW_DEFAULT_REGION: 'usa' })).toThrow(
      /FAXFLOW_DEFAULT_REGION must be a two-letter/,
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
