import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { ENT, SEARCH, call, userBody } from './http.ts';

// The pipeline's batched look-up: one `.search` whose filter ORs many `eq` terms on userName and
// employeeNumber. The simulator answers it from its index; the answer must equal a scan's.
const USERS = '/profile/identity/v4.1/Users';
let s: StartedSimulator;
let token: string;

beforeAll(async () => {
  s = await startSimulator();
  token = await s.companyToken();
  for (let i = 0; i < 12; i++) {
    const res = await call(s.baseUrl, 'POST', USERS, {
      token,
      body: userBody(i, { enterprise: { department: i % 3 === 0 ? 'Sales' : 'Ops' } }),
    });
    if (res.status !== 200) throw new Error(JSON.stringify(res.body));
  }
});
afterAll(async () => {
  await s.close();
});

const search = (filter: string) =>
  call(s.baseUrl, 'POST', `${USERS}/.search`, { token, body: { schemas: [SEARCH], filter, count: 100 } });
const names = (res: { body: { Resources: { userName: string }[] } }) => res.body.Resources.map((r) => r.userName);

describe('.search with an or of indexed terms', () => {
  it('returns each match once, in creation order, skipping unknown keys', async () => {
    const filter = [
      'userName eq "USER9@example.com"',
      `${ENT}:employeeNumber eq "E2"`,
      'userName eq "nobody@example.com"',
      `${ENT}:employeeNumber eq "E9"`,
      `${ENT}:employeeNumber eq "E404"`,
      'userName eq "user5@example.com"',
    ].join(' or ');
    const res = await search(filter);
    expect(res.status).toBe(200);
    expect(names(res)).toEqual(['user2@example.com', 'user5@example.com', 'user9@example.com']);
    expect(res.body.totalResults).toBe(3);
  });

  it('still applies a term the index cannot answer (falls back to a scan)', async () => {
    const res = await search(`userName eq "user1@example.com" or ${ENT}:department eq "Sales"`);
    expect(names(res)).toEqual([
      'user0@example.com',
      'user1@example.com',
      'user3@example.com',
      'user6@example.com',
      'user9@example.com',
    ]);
  });

  it('narrows an or by an and', async () => {
    const res = await search(
      `(userName eq "user3@example.com" or userName eq "user4@example.com") and ${ENT}:department eq "Sales"`,
    );
    expect(names(res)).toEqual(['user3@example.com']);
  });
});
