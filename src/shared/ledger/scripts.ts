import { readFileSync } from 'node:fs';
import type { LuaScript } from '../lua.ts';
import { BRAKE_ADVICE, BRAKE_ADVICE_DEFAULT } from './brake-advice.ts';
import {
  BRAKE_FAILED_STATES,
  FINISHED_STATUSES,
  NEVER_SENT_STATES,
  RECORD_FORGOTTEN_STATES,
  ROW_STATES,
  TERMINAL_STATES,
  TRANSITIONS,
} from './states.ts';

/*
 * The ledger's Lua scripts (lua/*.lua): every ledger change is one atomic script, so a row's
 * state, the drop counters and the completion check never disagree, and a repeated call changes
 * nothing. Each runs after the prelude: the state tables below, rendered from states.ts, then
 * lua/prelude.lua's helpers.
 */

const luaString = (s: string): string => `'${s}'`;
const luaSet = (values: Iterable<string>): string => `{${[...values].map((v) => `[${luaString(v)}]=true`).join(',')}}`;
const luaQuoted = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const luaList = (values: Iterable<string>): string => `{${[...values].map(luaString).join(',')}}`;

/** The state tables every ledger script sees, from states.ts and brake-advice.ts (so the Lua cannot drift from them). */
export function stateTablesLua(): string {
  const moves = ROW_STATES.map((from) => `[${luaString(from)}]=${luaSet(TRANSITIONS[from])}`).join(',\n  ');
  return [
    '-- Rendered from src/shared/ledger/states.ts and brake-advice.ts.',
    `local TERMINAL = ${luaSet(TERMINAL_STATES)}`,
    `local MOVES = {\n  ${moves},\n}`,
    `local RECORD_FORGOTTEN = ${luaSet(RECORD_FORGOTTEN_STATES)}`,
    `local FINISHED_STATUS = ${luaSet(FINISHED_STATUSES)}`,
    `local NEVER_SENT = ${luaList(NEVER_SENT_STATES)}`,
    `local BRAKE_FAILED = ${luaList(BRAKE_FAILED_STATES)}`,
    `local BRAKE_FAILED_SET = ${luaSet(BRAKE_FAILED_STATES)}`,
    `local BRAKE_ADVICE = {\n  ${Object.entries(BRAKE_ADVICE)
      .map(([code, advice]) => `[${luaQuoted(code)}]=${luaQuoted(advice)}`)
      .join(',\n  ')},\n}`,
    `local BRAKE_ADVICE_DEFAULT = ${luaQuoted(BRAKE_ADVICE_DEFAULT)}`,
    '',
  ].join('\n');
}

const file = (name: string): URL => new URL(`./lua/${name}.lua`, import.meta.url);

let prelude: string | undefined;
/** The state tables and the shared helpers, put before every ledger script. */
export function ledgerPrelude(): string {
  prelude ??= `${stateTablesLua()}${readFileSync(file('prelude'), 'utf8')}`;
  return prelude;
}

const script = (name: string, fileName: string): LuaScript => ({ name, file: file(fileName), prelude: ledgerPrelude });

/**
 * A script that runs another ledger script once per row: the prelude, then that script's file as
 * the function `fnName(KEYS, ARGV)`, so each row goes through the very code of a single call.
 */
const perRow = (name: string, fileName: string, single: string, fnName: string): LuaScript => ({
  name,
  file: file(fileName),
  prelude: () => `${ledgerPrelude()}local function ${fnName}(KEYS, ARGV)\n${readFileSync(file(single), 'utf8')}\nend\n`,
});

export const LEDGER_SCRIPTS = {
  addRows: script('provLedgerAddRows', 'add-rows'),
  transition: script('provLedgerTransition', 'transition'),
  transitionMany: perRow('provLedgerTransitionMany', 'transition-many', 'transition', 'transition_one'),
  settleProvision: perRow('provLedgerSettleProvision', 'settle-provision', 'transition', 'transition_one'),
  readRows: script('provLedgerReadRows', 'read-rows'),
  waitFor: script('provLedgerWaitFor', 'wait-for'),
  peekReferences: script('provLedgerPeekReferences', 'peek-references'),
  defer: script('provLedgerDefer', 'defer'),
  deferMany: perRow('provLedgerDeferMany', 'defer-many', 'defer', 'defer_one'),
  finishIngest: script('provLedgerFinishIngest', 'finish-ingest'),
  setStatusIf: script('provLedgerSetStatusIf', 'set-status-if'),
  approve: script('provLedgerApprove', 'approve'),
  brake: script('provLedgerBrake', 'brake'),
  cancelRows: script('provLedgerCancelRows', 'cancel-rows'),
  releasedWaiters: script('provLedgerReleasedWaiters', 'released-waiters'),
  claimBatch: script('provLedgerClaimBatch', 'claim-batch'),
  recordSubmission: script('provLedgerRecordSubmission', 'record-submission'),
  countReactivation: script('provLedgerCountReactivation', 'count-reactivation'),
} as const;

export type LedgerScriptName = keyof typeof LEDGER_SCRIPTS;
