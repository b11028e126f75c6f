import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/shared/config.ts';
import { createConcurClient, type ConcurClient } from '../../../src/shared/concur/index.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { seedPeople, simUsers } from '../../helpers/sim-data.ts';
import { startSimulator, type StartedSimulator } from '../../helpers/simulator.ts';
import { person } from '../../helpers/drops.ts';

const SPEND = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';

/** Node 20 has no Array.fromAsync. */
async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

let sim: StartedSimulator;
let client: ConcurClient;

beforeEach(async () => {
  sim = await startSimulator({
    knobs: {
      spendListItems: { custom3: ['CC100', 'CC200'], orgUnit1: Array.from({ length: 120 }, (_, i) => `OU${i}`) },
      spendListNames: { custom3: 'Cost Centers', orgUnit1: 'Org Units' },
    },
  });
  client = createConcurClient({
    config: loadConfig({ CONCUR_BASE_URL: sim.baseUrl, LOG_LEVEL: 'silent' }),
    log: createLogger({ level: 'silent' }),
  });
});
afterEach(async () => {
  await client.close();
  await sim.close();
});

describe('what the client reads about the company', () => {
  it('lists and their items through List v4, every page', async () => {
    const lists = await all(client.lists.lists());
    expect(lists.map((l) => l.value)).toEqual(['Cost Centers', 'Org Units']);
    const orgUnits = lists.find((l) => l.value === 'Org Units')!;
    const codes = (await all(client.lists.items(orgUnits.id))).map((i) => i.code);
    expect(codes).toHaveLength(120);
    expect(codes).toContain('OU119');
  });

  it("a person's spend user through Spend v4.1 (none yet, then one)", async () => {
    await seedPeople(sim, [person(1)]);
    const [user] = await simUsers(sim);
    expect((await client.spend.getUser(user!.id))?.[SPEND]).toBeUndefined();
    sim.sim.ctx.users.setExtension(user!.id, SPEND, { country: 'US', reimbursementCurrency: 'USD', locale: 'en-US' });
    expect((await client.spend.getUser(user!.id))?.[SPEND]).toMatchObject({ country: 'US' });
    expect(await client.spend.getUser('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });
});
