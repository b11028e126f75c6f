// Loads the in-process simulator with autocannon: Identity creates (unique userNames) and
// `.search` by employeeNumber, each for a few seconds. Prints one JSON line:
//   { createRps, searchRps, createP99Ms, searchP99Ms, users, non2xx, errors, durationS, connections }
// Usage: npx tsx bench/simulator-load.ts [durationS=5] [connections=20]
import { createRequire } from 'node:module';
import { simulatorToken } from '../src/demo/seed.ts';
import { buildSimulator } from '../src/simulator/app.ts';

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p99: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const durationS = Number(process.argv[2] ?? 5);
const connections = Number(process.argv[3] ?? 20);

const sim = await buildSimulator();
const baseUrl = await sim.listen({ port: 0 });
try {
  const { tenant } = sim.ctx;
  const token = await simulatorToken(baseUrl, tenant);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  let n = 0;
  const create = await autocannon({
    url: baseUrl,
    connections,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        path: '/profile/identity/v4.1/Users',
        headers,
        setupRequest: (req) => {
          n += 1;
          const body = {
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName: `bench${n}@example.com`,
            active: true,
            name: { givenName: 'Bench', familyName: `User${n}` },
            emails: [{ value: `bench${n}@example.com`, type: 'work' }],
            [ENT]: { employeeNumber: `B${n}` },
          };
          return { ...req, body: JSON.stringify(body) };
        },
      },
    ],
  });

  const users = sim.ctx.users.list().length;
  let k = 0;
  const search = await autocannon({
    url: baseUrl,
    connections,
    duration: durationS,
    requests: [
      {
        method: 'POST',
        path: '/profile/identity/v4.1/Users/.search',
        headers,
        setupRequest: (req) => {
          k = (k % Math.max(users, 1)) + 1;
          const body = {
            schemas: ['urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest'],
            filter: `${ENT}:employeeNumber eq "B${k}"`,
            count: 10,
          };
          return { ...req, body: JSON.stringify(body) };
        },
      },
    ],
  });

  process.stdout.write(
    `${JSON.stringify({
      createRps: Math.round(create.requests.average),
      searchRps: Math.round(search.requests.average),
      createP99Ms: create.latency.p99,
      searchP99Ms: search.latency.p99,
      users,
      non2xx: create.non2xx + search.non2xx,
      errors: create.errors + search.errors,
      durationS,
      connections,
    })}\n`,
  );
} finally {
  await sim.close();
}
