import { describe, expect, it } from 'vitest';
import {
  parseResponse,
  provisionStatusSchema,
  tokenResponseSchema,
  userSchema,
} from '../../../src/shared/concur/schemas.ts';

describe('response schemas', () => {
  it('keep unknown fields', () => {
    const user = parseResponse(
      userSchema,
      { id: 'u1', userName: 'a', 'urn:x:new': { y: 1 }, timezone: 'UTC' },
      { what: 'user' },
    );
    expect(user).toMatchObject({ id: 'u1', 'urn:x:new': { y: 1 }, timezone: 'UTC' });
  });

  it('read expires_in as a string or a number', () => {
    expect(
      parseResponse(tokenResponseSchema, { access_token: 'a', expires_in: '3600' }, { what: 't' }).expires_in,
    ).toBe(3600);
    expect(parseResponse(tokenResponseSchema, { access_token: 'a', expires_in: 60 }, { what: 't' }).expires_in).toBe(
      60,
    );
  });

  it('name every missing field path and keep values out of the message', () => {
    let caught: unknown;
    try {
      parseResponse(
        provisionStatusSchema,
        { id: 'p', status: { completed: 'secret-ish' }, operationsCount: { total: 1, success: 0, failed: 0 } },
        { what: 'provision status', statusCode: 200, correlationId: 'c' },
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'PROV_ERR_RESPONSE', details: { kind: 'response', correlationId: 'c' } });
    const message = (caught as Error).message;
    expect(message).toContain('status.completed');
    expect(message).toContain('operationsCount.pending');
    expect(message).not.toContain('secret-ish');
  });
});
