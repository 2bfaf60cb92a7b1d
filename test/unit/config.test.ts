import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config';

/** The message of what `fn` throws; fails the test when it throws nothing. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}

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
    expect(messageOf(attempt)).not.toContain('hunter2');
  });

  it('reads the tenants allowed premium-rate numbers', () => {
    expect(loadConfig({}).premiumRateTenants).toEqual([]);
    expect(loadConfig({ FAXFLOW_PREMIUM_RATE_TENANTS: 'acme,globex' }).premiumRateTenants).toEqual([
      'acme',
      'globex',
    ]);
    expect(loadConfig({ FAXFLOW_PREMIUM_RATE_TENANTS: '*' }).premiumRateTenants).toEqual(['*']);
    expect(() => loadConfig({ FAXFLOW_PREMIUM_RATE_TENANTS: 'acme, globex' })).toThrow(
      'FAXFLOW_PREMIUM_RATE_TENANTS must be * or a comma-separated list of tenant ids.',
    );
  });

  it('takes a budget window and a default fax policy, and says what is wrong with bad ones', () => {
    const config = loadConfig({
      FAXFLOW_RATE_WINDOW_MS: '610',
      FAXFLOW_FAX_POLICY: '{"redialBackoffMs":1000,"pollInitialMs":500}',
    });
    expect(config.rateWindowMs).toBe(610);
    expect(loadConfig({ FAXFLOW_MAX_CACHED_WORKFLOWS: '250' }).maxCachedWorkflows).toBe(250);
    expect(() => loadConfig({ FAXFLOW_MAX_CACHED_WORKFLOWS: 'lots' })).toThrow(
      'FAXFLOW_MAX_CACHED_WORKFLOWS must be a whole number of workflows.',
    );
    expect(config.faxPolicy).toEqual({ redialBackoffMs: 1000, pollInitialMs: 500 });
    expect(loadConfig({}).faxPolicy).toBeUndefined();
    expect(() => loadConfig({ FAXFLOW_RATE_WINDOW_MS: '5' })).toThrow(
      'FAXFLOW_RATE_WINDOW_MS must be at least 100 ms.',
    );
    expect(() => loadConfig({ FAXFLOW_FAX_POLICY: '{redial' })).toThrow(
      'FAXFLOW_FAX_POLICY must be a JSON object such as {"redialBackoffMs":60000}.',
    );
    expect(messageOf(() => loadConfig({ FAXFLOW_FAX_POLICY: '{"redial":1}' }))).toContain(
      'unknown field(s) redial',
    );
    expect(() => loadConfig({ FAXFLOW_FAX_POLICY: '{"maxAttempts":0}' })).toThrow(/maxAttempts/);
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

  it('reads RINGCENTRAL_DELIVERY_REPORTS: auto by default, yes or no, nothing else', () => {
    expect(loadConfig({}).deliveryReports).toBe('auto');
    expect(loadConfig({ RINGCENTRAL_DELIVERY_REPORTS: 'no' }).deliveryReports).toBe('no');
    expect(messageOf(() => loadConfig({ RINGCENTRAL_DELIVERY_REPORTS: 'maybe' }))).toBe(
      'RINGCENTRAL_DELIVERY_REPORTS must be auto, yes or no.',
    );
  });
});
