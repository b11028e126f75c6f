import { describe, expect, it } from 'vitest';
import { generateDrop, toCsv } from '../../../src/demo/generate.ts';
import { unsafeNameReason, safeName } from '../../../src/producers/watch-names.ts';
import { authorized } from '../../../src/server/auth.ts';
import { uploadName } from '../../../src/server/drops.ts';
import { endpointOf, retryReason } from '../../../src/shared/metrics/concur-calls.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('dashboard auth', () => {
  const s = { user: 'ops', password: 'p:w', token: 'tok', metricsToken: 'mt' };
  it('accepts the right basic credentials and the bearer token, nothing else', () => {
    expect(authorized(s, `Basic ${b64('ops:p:w')}`, '/drops')).toBe(true);
    expect(authorized(s, `basic ${b64('ops:p:w')}`, '/drops')).toBe(true);
    expect(authorized(s, 'Bearer tok', '/drops')).toBe(true);
    expect(authorized(s, `Basic ${b64('ops:p:x')}`, '/drops')).toBe(false);
    expect(authorized(s, `Basic ${b64('opsp:w')}`, '/drops')).toBe(false);
    expect(authorized(s, 'Bearer tok2', '/drops')).toBe(false);
    expect(authorized(s, undefined, '/drops')).toBe(false);
  });
  it('takes the metrics token on /metrics only', () => {
    expect(authorized(s, 'Bearer mt', '/metrics')).toBe(true);
    expect(authorized(s, 'Bearer mt', '/drops')).toBe(false);
  });
  it('lets everything through in insecure mode without credentials, but not when credentials exist', () => {
    expect(authorized({ insecure: true }, undefined, '/drops')).toBe(true);
    expect(authorized({ ...s, insecure: true }, undefined, '/drops')).toBe(false);
  });
});

describe('watch folder names', () => {
  it('refuses path tricks and control characters', () => {
    for (const name of [
      '..',
      '.',
      '',
      'a/b.csv',
      'a\\b.csv',
      '..csv',
      'x..y',
      'bell\u0007.csv',
      'nl\n.csv',
      'x'.repeat(201),
    ])
      expect(unsafeNameReason(name), JSON.stringify(name)).toBeDefined();
    for (const name of ['people.csv', 'HR export 2024-01.csv', 'ünïcode.json', '.partial'])
      expect(unsafeNameReason(name), name).toBeUndefined();
  });
  it('makes a printable stand-in', () => {
    expect(safeName('a\u0000b/../c.csv')).toBe('a_b___c.csv');
    expect(safeName('..')).toBe('_');
  });
});

describe('upload names', () => {
  it('keeps a plain basename and derives an extension from the content type', () => {
    expect(uploadName('../../etc/people.csv', undefined)).toBe('people.csv');
    expect(uploadName('C:\\hr\\drop.json', undefined)).toBe('drop.json');
    expect(uploadName(undefined, 'text/csv; charset=utf-8')).toBe('upload.csv');
    expect(uploadName('weird name$.ndjson', undefined)).toBe('weird_name_.ndjson');
    expect(uploadName('...hidden.csv', undefined)).toBe('hidden.csv');
  });
});

describe('concur call metrics labels', () => {
  it('turns ids in paths into {id}', () => {
    expect(endpointOf('/profile/identity/v4.1/Users/abc-123')).toBe('/profile/identity/v4.1/Users/{id}');
    expect(endpointOf('/profile/identity/v4.1/Users/.search')).toBe('/profile/identity/v4.1/Users/.search');
    expect(endpointOf('/profile/v4/provisions/p-1/status')).toBe('/profile/v4/provisions/{id}/status');
    expect(endpointOf('/profile/v4/Bulk')).toBe('/profile/v4/Bulk');
  });
  it('classifies retryable outcomes', () => {
    expect(retryReason({ status: 429 })).toBe('rate_limited');
    expect(retryReason({ status: 503 })).toBe('server');
    expect(retryReason({ errorCode: 'ECONNRESET' })).toBe('network');
    expect(retryReason({ status: 400 })).toBeUndefined();
    expect(retryReason({ status: 200 })).toBeUndefined();
  });
});

describe('demo drop generator', () => {
  it('is deterministic and has managers, bad rows, existing and deactivated people', () => {
    const a = generateDrop({ people: 2000, seed: 5 });
    const b = generateDrop({ people: 2000, seed: 5 });
    expect(toCsv(a.records)).toBe(toCsv(b.records));
    expect(toCsv(generateDrop({ people: 2000, seed: 6 }).records)).not.toBe(toCsv(a.records));
    expect(a.records).toHaveLength(2000);
    expect(a.managers.length).toBeGreaterThan(200);
    expect(a.bad.length).toBeGreaterThan(20);
    expect(new Set(a.bad.map((x) => x.kind)).size).toBe(5);
    expect(a.existing.length).toBeGreaterThan(50);
    expect(a.deactivated.length).toBeGreaterThan(5);
    // Some reports come before their managers in the file.
    const position = new Map(a.records.map((r, i) => [r.employeeNumber, i]));
    const early = a.records.filter(
      (r, i) => r.managerEmployeeNumber !== '' && (position.get(r.managerEmployeeNumber) ?? -1) > i,
    );
    expect(early.length).toBeGreaterThan(100);
  });
});
