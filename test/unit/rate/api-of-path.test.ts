import { describe, expect, it } from 'vitest';
import { apiOfPath } from '../../../src/shared/rate/index.ts';

describe('apiOfPath', () => {
  it('sorts every call a rate limiter gates into its family, and token calls into none', () => {
    expect(apiOfPath('/profile/identity/v4.1/Users/.search')).toBe('identity');
    expect(apiOfPath('/profile/identity/v4/Users/6b1c')).toBe('identity');
    expect(apiOfPath('/profile/v4/Bulk')).toBe('ups');
    expect(apiOfPath('/profile/v4/provisions/abc/status')).toBe('ups');
    expect(apiOfPath('/profile/spend/v4.1/Users/6b1c')).toBe('ups');
    expect(apiOfPath('/list/v4/lists/1/children')).toBe('ups');
    expect(apiOfPath('/oauth2/v0/token')).toBeUndefined();
  });
});
