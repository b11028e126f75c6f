import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FINISHED_STATUSES, ROW_STATES } from '../../../src/shared/ledger/states.ts';

// The drop page has no build step, so it spells the state lists itself: they must be states.ts's.
const page = readFileSync(new URL('../../../src/server/public/page.js', import.meta.url), 'utf8');

describe('the drop page', () => {
  it('shows every row state, in the order states.ts lists them', () => {
    const list = /var STATES = \[([^\]]*)\]/.exec(page)?.[1] ?? '';
    expect([...list.matchAll(/'([a-z_]+)'/g)].map((m) => m[1])).toEqual([...ROW_STATES]);
  });

  it('treats exactly the finished drop statuses as final', () => {
    const final = /var FINAL = \{([^}]*)\}/.exec(page)?.[1] ?? '';
    expect([...final.matchAll(/([a-z_]+): true/g)].map((m) => m[1]).sort()).toEqual([...FINISHED_STATUSES].sort());
  });
});
