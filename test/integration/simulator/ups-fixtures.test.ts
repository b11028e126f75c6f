import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, CORE, ROLE, SPEND, TRAVEL, ext, startUps, type Json, type UpsHarness } from './ups-support.ts';

const fixture = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../fixtures/concur/${name}`, import.meta.url), 'utf8')) as Json;

/** Every key path of a JSON value (array items merged), to compare shapes rather than values. */
function shape(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => shape(v, `${prefix}[]`)))];
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => [`${prefix}.${k}`, ...shape(v, `${prefix}.${k}`)]);
  }
  return [];
}

describe('documented UPS examples (fixtures) against the simulator', () => {
  let h: UpsHarness;
  beforeAll(async () => {
    h = await startUps();
  });
  afterAll(async () => {
    await h.close();
  });

  it('the documented single-user POST: identity and spend succeed, unknown approver and travel manager fail', async () => {
    const created = await h.call('POST', '/profile/v4/Users/', fixture('ups-user-request-example.json'));
    expect(created.status).toBe(201);
    const done = await h.waitCompleted(created.body.meta.statusUrl);
    const [op] = done.operations as Json[];
    expect(op?.status).toEqual({ completed: true, success: false, code: '207' });
    expect(ext(op!, CORE).status.result).toBe('success');
    expect(ext(op!, SPEND).status.result).toBe('success');
    expect(ext(op!, ROLE).status.result).toBe('success');
    expect(ext(op!, APPROVER).messages[0]).toMatchObject({ code: 'INVALID_USER', message: 'Employee does not exist' });
    expect(ext(op!, TRAVEL).messages[0]).toMatchObject({ code: 'INVALID_USER', schemaPath: `${TRAVEL}:manager` });

    // Our failed status has the shape of the real capture (every key the capture has, we have).
    const capture = fixture('ups-status-failed-capture.json');
    const ours = new Set(shape(done));
    expect(shape(capture).filter((path) => !ours.has(path))).toEqual([]);
  });

  it('the documented Bulk request: the POST succeeds, PATCH and PUT of an unknown uuid fail with 404', async () => {
    const res = await h.call('POST', '/profile/v4/Bulk/', fixture('ups-bulk-request-example.json'));
    expect(res.status).toBe(202);
    expect(res.body.operationsCount).toEqual({ total: 3, success: 0, failed: 0, pending: 3 });
    const done = await h.waitCompleted(res.body.meta.location);
    expect((done.operations as Json[]).map((o) => [o.bulkId, o.status.code])).toEqual([
      ['bulk-operation-1', '200'],
      ['update-emp001', '404'],
      ['Seattle', '404'],
    ]);
  });
});
