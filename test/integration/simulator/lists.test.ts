import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { BULK, SPEND, ext, identityUser, startUps, validSpend, type Json } from './ups-support.ts';

let sim: StartedSimulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({
    knobs: {
      spendListItems: {
        custom3: ['CC100', 'CC200'],
        orgUnit1: Array.from({ length: 150 }, (_, i) => `OU${i + 1}`),
        orgUnit2: ['SALES'],
      },
      spendListNames: { custom3: 'Cost Centers', orgUnit1: 'Org Units', orgUnit2: 'Org Units' },
    },
  });
  token = await sim.companyToken();
});
afterAll(() => sim.close());

async function get(path: string, auth = true): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sim.baseUrl}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as Json };
}

describe('List v4 API (simulator)', () => {
  it('lists the configured lists with Concur’s shape, filterable by value', async () => {
    const all = await get('/list/v4/lists');
    expect(all.status).toBe(200);
    expect(all.body.content.map((l: { value: string }) => l.value)).toEqual(['Cost Centers', 'Org Units']);
    expect(all.body.content[0]).toMatchObject({ levelCount: 1, isDeleted: false, category: { type: 'Normal' } });
    expect(all.body.page).toEqual({ size: 100, totalElements: 2, totalPages: 1, number: 1 });
    const one = await get(`/list/v4/lists?value=${encodeURIComponent('eq:cost centers')}`);
    expect(one.body.content).toHaveLength(1);
    expect((await get(`/list/v4/lists/${one.body.content[0].id}`)).body.value).toBe('Cost Centers');
  });

  it('serves the items UPS validates against, 100 a page; a code outside them is refused by UPS', async () => {
    const lists = (await get('/list/v4/lists')).body.content as { id: string; value: string }[];
    const orgUnits = lists.find((l) => l.value === 'Org Units')!;
    const first = await get(`/list/v4/lists/${orgUnits.id}/children`);
    expect(first.body.page).toMatchObject({ totalElements: 151, totalPages: 2, number: 1 });
    expect(first.body.content[0]).toMatchObject({ level: 1, parentId: null, lists: [{ id: orgUnits.id }] });
    const second = await get(`/list/v4/lists/${orgUnits.id}/children?page=2`);
    const codes = [...first.body.content, ...second.body.content].map((i: { shortCode: string }) => i.shortCode);
    expect(codes).toHaveLength(151);
    expect(codes).toContain('SALES');
    expect((await get(`/list/v4/items/${first.body.content[0].id}`)).body.code).toBe(first.body.content[0].code);
    const filtered = await get(`/list/v4/lists/${orgUnits.id}/children?shortCode=OU7`);
    expect(filtered.body.content.map((i: { code: string }) => i.code)).toEqual(['OU7']);

    // The same lists decide what UPS accepts.
    const h = await startUps({
      spendListItems: { custom3: ['CC100', 'CC200'], orgUnit1: ['OU150'] },
    });
    try {
      const res = await h.call('POST', '/profile/v4/Bulk', {
        schemas: [BULK],
        Operations: [
          {
            method: 'POST',
            path: '/Users',
            bulkId: 'b1',
            data: identityUser('L1', {
              [SPEND]: validSpend({
                customData: [
                  { id: 'orgUnit1', value: 'OU150' },
                  { id: 'custom3', value: 'CC999' },
                ],
              }),
            }),
          },
        ],
      });
      const op = (await h.waitCompleted(res.body.meta.location)).operations[0];
      expect(ext(op, SPEND).messages.map((m: Json) => m.schemaPath)).toEqual([
        `${SPEND}:customData[id eq "custom3"].value`,
      ]);
    } finally {
      await h.close();
    }
  });

  it('answers 401 without a token and a List-style 404 for an unknown list', async () => {
    expect((await get('/list/v4/lists', false)).status).toBe(401);
    const missing = await get('/list/v4/lists/00000000-0000-0000-0000-000000000000/children');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ httpStatus: '404 - Not Found', error: { message: expect.any(String) } });
  });
});
