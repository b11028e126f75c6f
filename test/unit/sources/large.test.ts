import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { afterAll, expect, it } from 'vitest';
import { openDrop } from '../../../src/producers/sources/index.ts';
import { scratch } from './read-all.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

it('streams a generated 200,000-row CSV and counts every row', { timeout: 120_000 }, async () => {
  const path = tmp.path('large.csv');
  const out = createWriteStream(path);
  out.write('userName,givenName,familyName,email,employeeNumber,title\n');
  for (let i = 1; i <= 200_000; i++) {
    if (!out.write(`u${i}@example.com,Given,"Family, ""${i}""",u${i}@example.com,${i},Title\n`))
      await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');

  const reader = openDrop(path);
  let count = 0;
  let last = 0;
  let sum = 0;
  for await (const item of reader) {
    expect(item.kind).toBe('row');
    if (item.kind !== 'row') continue;
    count++;
    last = item.rowNumber;
    sum += Number(item.record.employeeNumber);
  }
  expect(count).toBe(200_000);
  expect(last).toBe(200_000);
  expect(sum).toBe((200_000 * 200_001) / 2);
  expect(reader.summary().rows).toBe(200_000);
});
