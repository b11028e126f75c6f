import { describe, expect, it } from 'vitest';
import { loadConfig, configKeys, SIM_DEFAULTS } from '../../../src/shared/config.ts';
import { isProvError } from '../../../src/shared/errors.ts';

describe('loadConfig', () => {
  it('applies documented defaults that point at the local simulator', () => {
    const config = loadConfig({});
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.QUEUE_PREFIX).toBe('{prov}');
    expect(config.CONCUR_BASE_URL).toBe(`http://127.0.0.1:${SIM_DEFAULTS.port}`);
    expect(config.CONCUR_CLIENT_ID).toBe(SIM_DEFAULTS.clientId);
    expect(config.CONCUR_REQUEST_TOKEN).toBe(SIM_DEFAULTS.requestToken);
    expect(config.CONCUR_REFRESH_TOKEN).toBeUndefined();
    expect(config.SIM_TOKEN_LIFETIME_S).toBe(3600);
  });

  it('coerces numbers and treats blank optional strings as absent', () => {
    const config = loadConfig({ SIM_LATENCY_MS: '25', SIM_ERROR_RATE: '0.05', CONCUR_REFRESH_TOKEN: '  ' });
    expect(config.SIM_LATENCY_MS).toBe(25);
    expect(config.SIM_ERROR_RATE).toBeCloseTo(0.05);
    expect(config.CONCUR_REFRESH_TOKEN).toBeUndefined();
  });

  it('names every bad variable in one PROV_ERR_CONFIG error', () => {
    let caught: unknown;
    try {
      loadConfig({ SIM_ERROR_RATE: '2', LOG_LEVEL: 'loud', CONCUR_BASE_URL: 'not a url' });
    } catch (err) {
      caught = err;
    }
    expect(isProvError(caught, 'PROV_ERR_CONFIG')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain('SIM_ERROR_RATE');
    expect(message).toContain('LOG_LEVEL');
    expect(message).toContain('CONCUR_BASE_URL');
  });

  it('requires TOKEN_ENCRYPTION_KEY unless Concur is a simulator on this machine, and checks its shape', () => {
    const real = { CONCUR_BASE_URL: 'https://us.api.concursolutions.com' };
    expect(() => loadConfig(real)).toThrow(
      /TOKEN_ENCRYPTION_KEY: is required when CONCUR_BASE_URL is not on this machine/,
    );
    expect(() => loadConfig({ CONCUR_BASE_URL: 'http://simulator:4010' })).toThrow(/TOKEN_ENCRYPTION_KEY/);
    for (const local of ['http://127.0.0.1:4010', 'http://localhost:9', 'http://[::1]:4010'])
      expect(loadConfig({ CONCUR_BASE_URL: local }).TOKEN_ENCRYPTION_KEY).toBeUndefined();
    const base64 = Buffer.alloc(32, 7).toString('base64');
    const hex = Buffer.alloc(32, 7).toString('hex');
    expect(loadConfig({ ...real, TOKEN_ENCRYPTION_KEY: base64 }).TOKEN_ENCRYPTION_KEY).toBe(base64);
    expect(loadConfig({ ...real, TOKEN_ENCRYPTION_KEY: hex }).TOKEN_ENCRYPTION_KEY).toBe(hex);
    for (const bad of ['short', Buffer.alloc(16).toString('base64'), `${hex}00`])
      expect(() => loadConfig({ ...real, TOKEN_ENCRYPTION_KEY: bad })).toThrow(
        /TOKEN_ENCRYPTION_KEY: must be 32 random bytes/,
      );
  });

  it('lists its keys for the README table', () => {
    expect(configKeys()).toContain('REDIS_URL');
    expect(configKeys()).toContain('SIM_SEED');
  });
});
