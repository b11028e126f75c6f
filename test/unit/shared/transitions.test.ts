import { describe, expect, it } from 'vitest';
import { stateTablesLua } from '../../../src/shared/ledger/scripts.ts';
import {
  BRAKE_FAILED_STATES,
  NEVER_SENT_STATES,
  RECORD_FORGOTTEN_STATES,
  ROW_STATES,
  TERMINAL_STATES,
  TRANSITIONS,
  canMove,
  isTerminal,
  type RowState,
} from '../../../src/shared/ledger/states.ts';

// The moves a row makes, written out once more by hand: a change to the table must change this too.
const ALLOWED: [RowState, RowState][] = [
  ['pending', 'manager_wait'],
  ['pending', 'identity_done'],
  ['pending', 'done'],
  ['pending', 'unchanged'],
  ['pending', 'identity_failed'],
  ['pending', 'cancelled'],
  ['manager_wait', 'identity_done'],
  ['manager_wait', 'done'],
  ['manager_wait', 'unchanged'],
  ['manager_wait', 'identity_failed'],
  ['manager_wait', 'cancelled'],
  ['identity_done', 'extension_batched'],
  ['identity_done', 'identity_failed'],
  ['identity_done', 'cancelled'],
  ['extension_batched', 'extension_submitted'],
  ['extension_batched', 'identity_done'],
  ['extension_batched', 'done'],
  ['extension_batched', 'extension_failed'],
  ['extension_batched', 'cancelled'],
  ['extension_submitted', 'done'],
  ['extension_submitted', 'extension_failed'],
  ['extension_submitted', 'timed_out'],
  ['extension_submitted', 'cancelled'],
];
const allowed = new Set(ALLOWED.map(([from, to]) => `${from}>${to}`));
const PAIRS = ROW_STATES.flatMap((from) => ROW_STATES.filter((to) => to !== from).map((to) => [from, to] as const));

/** The Lua table `name = {...}` of the rendered prelude, as JS: sets become objects of true. */
function luaTable(name: string): unknown {
  const lua = stateTablesLua();
  const m = new RegExp(`local ${name} = (\\{[\\s\\S]*?\\n?\\})\\n`).exec(lua);
  if (!m) throw new Error(`no table ${name} in:\n${lua}`);
  const json = m[1]!
    .replace(/\[('[^']*')\]=/g, '$1:')
    .replace(/'/g, '"')
    .replace(/,(\s*)\}/g, '$1}');
  // A Lua list `{"a","b"}` reads as an array; a set `{"a":true}` as an object.
  return JSON.parse(/^\{\s*"[^"]*"\s*[,}]/.test(json) ? `[${json.slice(1, -1)}]` : json);
}

describe('the transition table', () => {
  it.each(PAIRS.filter(([from, to]) => allowed.has(`${from}>${to}`)))('allows %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(true);
  });

  it.each(PAIRS.filter(([from, to]) => !allowed.has(`${from}>${to}`)))('refuses %s -> %s', (from, to) => {
    expect(canMove(from, to)).toBe(false);
  });

  it('lets no terminal row move, and brings every active row to a terminal state', () => {
    for (const s of TERMINAL_STATES) expect(TRANSITIONS[s]).toEqual([]);
    const reachesEnd = (s: RowState, seen = new Set<RowState>()): boolean =>
      isTerminal(s) || (!seen.has(s) && TRANSITIONS[s].some((t) => reachesEnd(t, new Set([...seen, s]))));
    for (const s of ROW_STATES) expect(reachesEnd(s), s).toBe(true);
  });

  it('is what the ledger Lua checks: the prelude renders the same table and groups', () => {
    const moves = luaTable('MOVES') as Record<string, Record<string, true>>;
    expect(Object.keys(moves).sort()).toEqual([...ROW_STATES].sort());
    for (const from of ROW_STATES)
      expect(Object.keys(moves[from]!).sort(), from).toEqual([...TRANSITIONS[from]].sort());
    expect(Object.keys(luaTable('TERMINAL') as object).sort()).toEqual([...TERMINAL_STATES].sort());
    expect(Object.keys(luaTable('RECORD_FORGOTTEN') as object).sort()).toEqual([...RECORD_FORGOTTEN_STATES].sort());
    expect(luaTable('NEVER_SENT')).toEqual([...NEVER_SENT_STATES]);
    expect(luaTable('BRAKE_FAILED')).toEqual([...BRAKE_FAILED_STATES]);
  });
});
