import { describe, expect, it } from 'vitest';
import { classifyConcurResponse, classifyNetworkError, parseRetryAfter } from '../../../src/shared/concur/errors.ts';

const base = {
  method: 'GET',
  path: '/profile/identity/v4.1/Users/x',
  headers: {},
  body: undefined,
  correlationId: 'c-1',
};

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delta seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('falls back to 0 for absent or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBe(0);
  });
});

describe('classifyConcurResponse', () => {
  it.each([
    [429, 'PROV_ERR_RATE_LIMITED', 'rate_limited', true],
    [408, 'PROV_ERR_RETRYABLE', 'retryable', true],
    [500, 'PROV_ERR_RETRYABLE', 'retryable', true],
    [502, 'PROV_ERR_RETRYABLE', 'retryable', true],
    [504, 'PROV_ERR_RETRYABLE', 'retryable', true],
    [401, 'PROV_ERR_AUTH', 'auth', false],
    [403, 'PROV_ERR_AUTH', 'auth', false],
    [404, 'PROV_ERR_NOT_FOUND', 'not_found', false],
    [409, 'PROV_ERR_CONFLICT', 'conflict', false],
    [400, 'PROV_ERR_INVALID', 'invalid', false],
    [413, 'PROV_ERR_INVALID', 'invalid', false],
    [422, 'PROV_ERR_INVALID', 'invalid', false],
  ])('%i → %s', (statusCode, code, kind, retryable) => {
    const err = classifyConcurResponse({ ...base, statusCode });
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.statusCode).toBe(statusCode);
    expect(err.details).toMatchObject({ kind, statusCode, correlationId: 'c-1' });
  });

  it('treats any 4xx of the token endpoint as auth, but keeps 429 and 5xx', () => {
    expect(classifyConcurResponse({ ...base, statusCode: 400, tokenEndpoint: true }).details.kind).toBe('auth');
    expect(classifyConcurResponse({ ...base, statusCode: 429, tokenEndpoint: true }).details.kind).toBe('rate_limited');
    expect(classifyConcurResponse({ ...base, statusCode: 503, tokenEndpoint: true }).details.kind).toBe('retryable');
  });

  it('takes Retry-After from an array header', () => {
    const err = classifyConcurResponse({ ...base, statusCode: 429, headers: { 'retry-after': ['3', '9'] } });
    expect(err.details.retryAfterMs).toBe(3000);
  });
});

describe('classifyNetworkError', () => {
  it.each(['ECONNRESET', 'ECONNREFUSED', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])(
    '%s is retryable',
    (code) => {
      const err = classifyNetworkError({
        method: 'GET',
        path: '/x',
        cause: Object.assign(new Error('boom'), { code }),
      });
      expect(err.code).toBe('PROV_ERR_RETRYABLE');
      expect(err.details).toMatchObject({ kind: 'retryable', errorCode: code });
    },
  );
  it('finds the code on the cause', () => {
    const cause = Object.assign(new Error('inner'), { code: 'ECONNRESET' });
    const err = classifyNetworkError({ method: 'GET', path: '/x', cause: new Error('outer', { cause }) });
    expect(err.details.errorCode).toBe('ECONNRESET');
  });
  it('an unknown failure is internal and not retried', () => {
    const err = classifyNetworkError({ method: 'GET', path: '/x', cause: new TypeError('bad argument') });
    expect(err.code).toBe('PROV_ERR_INTERNAL');
    expect(err.retryable).toBe(false);
  });
});
