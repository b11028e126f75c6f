import type { RedisConnection } from '../redis.ts';
import { ProvError } from '../errors.ts';
import { dropIndexKey, dropKeys, provisionKeys, type DropKeys, type ProvisionKeys } from '../keys.ts';
import { batcherOf, defineScript, type ScriptBatcher, type ScriptCall, type ScriptRunner } from '../lua.ts';
import { groupByDrop, type ProvisionRecord } from '../provisions/entries.ts';
import { DECISIONS_KEPT, parseDecision, type Decision } from './decisions.ts';
import { PAGE_ROWS, decodePage, encodePage, pageOf, rowsOfPage, type RawRow } from './pages.ts';
import { LEDGER_SCRIPTS, type LedgerScriptName } from './scripts.ts';
import { FINISHED_STATUSES, ROW_STATES, isTerminal, type DropStatus, type RowState } from './states.ts';

/** What the ledger keeps about a row's outcome (the report's columns come from here). */
export interface RowOutcome {
  userName?: string;
  employeeNumber?: string;
  uuid?: string;
  provisionId?: string;
  /** What the identity stage did: create | update | unchanged | deactivate. */
  action?: string;
  /** One-line reason for a failure or `invalid`. */
  error?: string;
  /** Column that failed validation, for `invalid`. */
  column?: string;
  /** Concur's or our error code. */
  code?: string;
  /** Per-extension results for extension_failed: name, code, message, schemaPath. */
  extensions?: unknown;
  warnings?: string[];
  /**
   * Set while a deferred row waits: the look-up found no such person, so it is created when
   * released. A patch clears it with null once the identity is written.
   */
  absent?: boolean | null;
  [key: string]: unknown;
}

export interface NewRow {
  row: number;
  state: RowState;
  /** For in-drop duplicate detection of `pending` rows (compared case-insensitively). */
  userName?: string;
  /** The normalized record (omitted for invalid rows). */
  data?: unknown;
  outcome?: RowOutcome;
  employeeNumber?: string;
}

export interface DropMeta {
  id: string;
  file: string;
  sha256: string;
  format: string;
  status: DropStatus;
  createdAt: number;
  rows?: number;
  ingestedAt?: number;
  completedAt?: number;
  parentDropId?: string;
  mappingSha256?: string;
  /** Why a drop is held or paused. */
  reason?: string;
  /** Valid `active=false` rows, counted at ingest for the deactivation threshold. */
  deactivations?: number;
  /** Identity conflicts counted by the identity stage (the conflict guard). */
  conflicts?: number;
  /** When a worker first moved a row since the drop ran or was approved (its rate's clock), and the rows settled then. */
  startedAt?: number;
  startedSettled?: number;
  /** The plan's counts as JSON (`ingest --plan`). */
  plan?: string;
  /** Stage timings (epoch ms) and other extra fields. */
  [key: `${string}At`]: number | undefined;
}

export interface NewDrop {
  id: string;
  file: string;
  sha256: string;
  format: string;
  createdAt: number;
  status?: DropStatus;
  parentDropId?: string;
  mappingSha256?: string;
}

export interface DropView {
  meta: DropMeta;
  counts: Record<string, number>;
  terminal: number;
}

export type TransitionResult =
  | { result: 'ok'; previous: RowState; dropCompleted: boolean; releasedWaiters: number[] }
  | { result: 'same' | 'terminal' | 'refused'; previous: RowState; dropCompleted: false; releasedWaiters: number[] }
  | { result: 'missing'; previous: undefined; dropCompleted: false; releasedWaiters: number[] };

/** userName as Concur compares it: trimmed, NFC, case-insensitive. */
export function userNameKey(userName: string): string {
  return userName.trim().normalize('NFC').toLowerCase();
}

/**
 * Redis's Lua cjson turns an empty array into `{}`, so empty arrays are left out of patches
 * (readers treat a missing list as empty).
 */
function encodePatch(patch: RowOutcome): string {
  const clean: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    clean[k] = v;
  }
  return JSON.stringify(clean);
}

/** The outcome naming the person: a row whose record is still kept has it there (see ADD_ROWS). */
function withIdentity(outcome: RowOutcome, data: unknown): RowOutcome {
  const d = data as { userName?: unknown; employeeNumber?: unknown } | undefined;
  if (!d || (outcome.userName !== undefined && outcome.employeeNumber !== undefined)) return outcome;
  const named = { ...outcome };
  if (named.userName === undefined && typeof d.userName === 'string') named.userName = d.userName;
  if (named.employeeNumber === undefined && typeof d.employeeNumber === 'string')
    named.employeeNumber = d.employeeNumber;
  return named;
}

/** Appends a row to `out` in ADD_ROWS's argument form (six strings; see lua/add-rows.lua). */
export function encodeNewRow(r: NewRow, out: string[]): void {
  out.push(
    String(r.row),
    r.state,
    r.data === undefined ? '' : JSON.stringify(r.data),
    r.outcome === undefined ? '' : JSON.stringify(r.outcome),
    r.employeeNumber ?? '',
    r.userName === undefined ? '' : userNameKey(r.userName),
  );
}

/** One row's move for `Ledger.transitionMany` (the options of `Ledger.transition`). */
export interface RowMove {
  row: number;
  to: RowState;
  from?: RowState[];
  patch?: RowOutcome;
}

/** Moves per TRANSITION_MANY call: bounds the time one script holds Redis. */
const TRANSITIONS_PER_CALL = 500;

/** TRANSITION's reply as a TransitionResult. */
function parseTransition(reply: unknown): TransitionResult {
  const [result, previous, completed, ...waiters] = reply as [string, string, number, ...string[]];
  const releasedWaiters = waiters.map(Number);
  if (result === 'missing') return { result, previous: undefined, dropCompleted: false, releasedWaiters };
  if (result === 'ok')
    return { result, previous: previous as RowState, dropCompleted: completed === 1, releasedWaiters };
  return {
    result: result as 'same' | 'terminal' | 'refused',
    previous: previous as RowState,
    dropCompleted: false,
    releasedWaiters,
  };
}

/** PROV_ERR_LEDGER unless the drop is finished (a drop in progress is never deleted). */
export function refuseUnfinished(dropId: string, status: DropStatus): void {
  if (!FINISHED_STATUSES.has(status)) {
    throw new ProvError(
      'PROV_ERR_LEDGER',
      `drop ${dropId} is ${status}: only a complete, cancelled or rejected drop can be deleted (cancel it first)`,
    );
  }
}

const NUMERIC_META = new Set([
  'createdAt',
  'rows',
  'ingestedAt',
  'completedAt',
  'compactedAt',
  'heldAt',
  'approvedAt',
  'plannedAt',
  'pausedAt',
  'operatorPausedAt',
  'cancelledAt',
  'deactivations',
  'conflicts',
  'conflictsBase',
  'startedAt',
  'startedSettled',
  'deactivationsBase',
  'reactivations',
  'reactivationsBase',
]);

/**
 * The ledger: drops and per-row state in Redis, and the only writer of a row's state. Every move
 * is an atomic Lua script (lua/*.lua) that updates the row, the drop counters and the completion
 * flag in one step, and checks the move against the transition table (states.ts).
 */
export class Ledger {
  private readonly redis: RedisConnection;
  private readonly prefix: string;
  private readonly provisions: ProvisionKeys;
  private readonly scripts: Record<LedgerScriptName, ScriptRunner>;
  /** Single-row moves, gathered per event-loop turn (with the connection's other batched calls). */
  private readonly moves: ScriptBatcher;

  constructor(redis: RedisConnection, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    this.provisions = provisionKeys(prefix);
    this.moves = batcherOf(redis);
    this.scripts = Object.fromEntries(
      Object.entries(LEDGER_SCRIPTS).map(([name, script]) => [name, defineScript(redis, script)]),
    ) as Record<LedgerScriptName, ScriptRunner>;
  }

  keys(dropId: string): DropKeys {
    return dropKeys(this.prefix, dropId);
  }

  /** Creates the drop if it does not exist. Returns false when it already existed (same file again). */
  async createDrop(meta: NewDrop): Promise<boolean> {
    const k = this.keys(meta.id);
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries({ status: 'ingesting', ...meta })) {
      if (value !== undefined) fields[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    const created = await this.redis.hsetnx(k.meta, 'id', meta.id);
    if (created === 0) return false;
    await this.redis.hset(k.meta, fields);
    await this.redis.zadd(dropIndexKey(this.prefix), meta.createdAt, meta.id);
    return true;
  }

  async setDropFields(dropId: string, fields: Record<string, string | number>): Promise<void> {
    await this.redis.hset(this.keys(dropId).meta, fields);
  }

  /**
   * Records rows (idempotent: rows already recorded are left as they are). A `pending` row whose
   * employeeNumber or userName an earlier row of the drop has is recorded `invalid` instead
   * (see ADD_ROWS); its number is in `duplicates`. `file` labels those reasons.
   */
  async addRows(dropId: string, rows: NewRow[], file = 'drop'): Promise<{ added: number; duplicates: number[] }> {
    const encoded: string[] = [];
    for (const r of rows) encodeNewRow(r, encoded);
    return this.addEncodedRows(dropId, encoded, file);
  }

  /**
   * `addRows` for rows already encoded by `encodeNewRow` (a producer encodes each row as it reads
   * it, so the row's objects die young and a batch holds a few strings per row).
   */
  async addEncodedRows(
    dropId: string,
    encoded: readonly string[],
    file = 'drop',
  ): Promise<{ added: number; duplicates: number[] }> {
    if (encoded.length === 0) return { added: 0, duplicates: [] };
    const k = this.keys(dropId);
    const [added, ...duplicates] = (await this.scripts.addRows(
      [k.rows, k.counts, k.data, k.out, k.emp],
      [file, ...encoded],
    )) as number[];
    return { added: Number(added), duplicates: duplicates.map(Number) };
  }

  /** Marks ingestion over: sets the row count and the next status, completing an all-terminal drop. */
  async finishIngest(
    dropId: string,
    rows: number,
    status: 'running' | 'held' | 'planned',
    now = Date.now(),
  ): Promise<{ changed: boolean; completed: boolean }> {
    const k = this.keys(dropId);
    const [changed, completed] = (await this.scripts.finishIngest([k.meta, k.counts, k.emp], [rows, status, now])) as [
      number,
      number,
    ];
    return { changed: changed === 1, completed: completed === 1 };
  }

  /**
   * Moves a row to `to` if it is in one of `from` (any active state when omitted) and merges
   * `patch` into its outcome. Terminal rows never move again. `also`: other modules' writes that
   * belong to the same moment (what Concur answered for the row's user), run just before the move
   * in the same round trip; their replies are not kept. The moves of one event-loop turn (rows of
   * concurrent jobs) share one round trip.
   */
  async transition(
    dropId: string,
    row: number,
    to: RowState,
    options: { from?: RowState[]; patch?: RowOutcome; now?: number; also?: readonly ScriptCall[] } = {},
  ): Promise<TransitionResult> {
    const k = this.keys(dropId);
    const keys = [k.rows, k.counts, k.meta, k.out, k.data, k.emp, `${k.waitersPrefix}${row}`];
    const args = [
      row,
      to,
      (options.from ?? []).join(','),
      options.patch ? encodePatch(options.patch) : '',
      options.now ?? Date.now(),
    ];
    const replies = await this.moves.run([...(options.also ?? []), { script: LEDGER_SCRIPTS.transition, keys, args }]);
    return parseTransition(replies.at(-1));
  }

  /**
   * `transition` for many rows of one drop in one round trip: lua/transition-many.lua runs the
   * code of a single transition for each move, in order, so each keeps every guarantee of one
   * (the table and `from` states, counters, completion, released waiters). Returns each move's
   * result in order.
   */
  async transitionMany(dropId: string, moves: readonly RowMove[], now = Date.now()): Promise<TransitionResult[]> {
    const k = this.keys(dropId);
    const results: TransitionResult[] = [];
    // Moves often share one patch object (a provision's fallback verdict): encode it once.
    const encoded = new Map<RowOutcome, string>();
    for (let start = 0; start < moves.length; start += TRANSITIONS_PER_CALL) {
      const chunk = moves.slice(start, start + TRANSITIONS_PER_CALL);
      const keys = [k.rows, k.counts, k.meta, k.out, k.data, k.emp];
      const args: (string | number)[] = [now];
      for (const move of chunk) {
        let patch = '';
        if (move.patch) {
          patch = encoded.get(move.patch) ?? encodePatch(move.patch);
          encoded.set(move.patch, patch);
        }
        keys.push(`${k.waitersPrefix}${move.row}`);
        args.push(move.row, move.to, (move.from ?? []).join(','), patch);
      }
      const replies = (await this.scripts.transitionMany(keys, args)) as unknown[];
      for (const reply of replies) results.push(parseTransition(reply));
    }
    return results;
  }

  /**
   * Settles the rows of one drop that a provision carried (lua/settle-provision.lua), in one round
   * trip: each row still waiting on the provision (`extension_submitted` with its id) moves as by
   * `transition`; any other is `refused` and stays. `forget`: the provision's record and status job
   * entry go in the same step (for its last drop). Returns each move's result in order.
   */
  async settleProvisionRows(
    dropId: string,
    provisionId: string,
    moves: readonly Omit<RowMove, 'from'>[],
    forget: boolean,
    now = Date.now(),
  ): Promise<TransitionResult[]> {
    const k = this.keys(dropId);
    const p = this.provisions;
    const results: TransitionResult[] = [];
    const encoded = new Map<RowOutcome, string>();
    for (let start = 0; start === 0 || start < moves.length; start += TRANSITIONS_PER_CALL) {
      const chunk = moves.slice(start, start + TRANSITIONS_PER_CALL);
      const last = start + TRANSITIONS_PER_CALL >= moves.length;
      const keys = [k.rows, k.counts, k.meta, k.out, k.data, k.emp, p.provisions, p.statusJobs];
      const args: (string | number)[] = [now, provisionId, forget && last ? 1 : 0];
      for (const move of chunk) {
        const patch = move.patch ? (encoded.get(move.patch) ?? encodePatch(move.patch)) : '';
        if (move.patch) encoded.set(move.patch, patch);
        keys.push(`${k.waitersPrefix}${move.row}`);
        args.push(move.row, move.to, patch);
      }
      const replies = (await this.scripts.settleProvision(keys, args)) as unknown[];
      for (const reply of replies) results.push(parseTransition(reply));
    }
    return results;
  }

  /**
   * Waiters of these rows that were released (the row has a uuid or ended) but whose sets are still
   * there: not re-enqueued yet, e.g. the worker died after the transition. Re-enqueue, then forget.
   */
  async releasedWaiters(dropId: string, rows: readonly number[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const k = this.keys(dropId);
    const res = (await this.scripts.releasedWaiters(
      [k.rows, k.out, ...rows.map((r) => `${k.waitersPrefix}${r}`)],
      ['list', rows.length, ...rows],
    )) as string[];
    return [...new Set(res.map(Number))];
  }

  /**
   * Once `requeued` are re-enqueued: takes them out of the waiter sets of those of `rows` that are
   * released. Waiters someone else released and has not re-enqueued yet stay for its retry.
   */
  async forgetReleasedWaiters(dropId: string, rows: readonly number[], requeued: readonly number[]): Promise<void> {
    if (rows.length === 0 || requeued.length === 0) return;
    const k = this.keys(dropId);
    await this.scripts.releasedWaiters(
      [k.rows, k.out, ...rows.map((r) => `${k.waitersPrefix}${r}`)],
      ['forget', rows.length, ...rows, ...requeued],
    );
  }

  /**
   * Asks for the uuid of another row of the drop (a manager, an approver). Returns the uuid,
   * `ended` if that row ended without one, or `waiting` after registering `waiterRow` to be
   * released (by `transition`) once the target has a uuid or ends.
   */
  async waitFor(
    dropId: string,
    targetRow: number,
    waiterRow: number,
  ): Promise<{ uuid: string } | { ended: true } | { waiting: true }> {
    const k = this.keys(dropId);
    const res = String(
      await this.scripts.waitFor([k.out, k.rows, `${k.waitersPrefix}${targetRow}`], [targetRow, waiterRow]),
    );
    if (res === '') return { waiting: true };
    if (res === '!ended') return { ended: true };
    return { uuid: res };
  }

  /**
   * For each employee number, its row in this drop and what that row answers for good: its uuid,
   * or `ended` without one. Read-only, one round trip for a whole chunk's references; a row with
   * neither (still being written) is asked again through `waitFor`, which registers the wait.
   * Numbers no row of the drop has are left out.
   */
  async peekReferences(
    dropId: string,
    employeeNumbers: readonly string[],
  ): Promise<Map<string, { row: number; settled?: { uuid: string } | { ended: true } }>> {
    const found = new Map<string, { row: number; settled?: { uuid: string } | { ended: true } }>();
    const numbers = [...new Set(employeeNumbers)];
    if (numbers.length === 0) return found;
    const k = this.keys(dropId);
    const res = (await this.scripts.peekReferences([k.emp, k.out, k.rows], numbers)) as string[];
    numbers.forEach((n, i) => {
      const [row, uuid, ended] = [res[i * 3], res[i * 3 + 1], res[i * 3 + 2]];
      if (!row) return;
      if (uuid) found.set(n, { row: Number(row), settled: { uuid } });
      else if (ended === '1') found.set(n, { row: Number(row), settled: { ended: true } });
      else found.set(n, { row: Number(row) });
    });
    return found;
  }

  /**
   * Defers a `pending` row until the (still `pending`) row of its manager has a uuid: it moves to
   * `manager_wait` without a uuid and is released by the manager's transition. False when the
   * manager row is not pending (then the caller writes now and links the manager later).
   */
  async deferFor(dropId: string, targetRow: number, row: number, options: { absent?: boolean } = {}): Promise<boolean> {
    const k = this.keys(dropId);
    return (
      Number(
        await this.scripts.defer(
          [k.rows, k.counts, `${k.waitersPrefix}${targetRow}`, k.out, k.emp],
          [targetRow, row, options.absent ? '1' : '0'],
        ),
      ) === 1
    );
  }

  /**
   * `deferFor` for many rows of a chunk in one script (lua/defer-many.lua): one round trip, each
   * row deferred as `deferFor` would. Whether each row now waits, in the order given.
   */
  async deferMany(
    dropId: string,
    deferrals: readonly { targetRow: number; row: number; absent?: boolean }[],
  ): Promise<boolean[]> {
    if (deferrals.length === 0) return [];
    const k = this.keys(dropId);
    const answers = (await this.scripts.deferMany(
      [k.rows, k.counts, k.out, k.emp, ...deferrals.map((d) => `${k.waitersPrefix}${d.targetRow}`)],
      deferrals.flatMap((d) => [d.targetRow, d.row, d.absent ? '1' : '0']),
    )) as number[];
    return answers.map((a) => Number(a) === 1);
  }

  async rowForEmployeeNumber(dropId: string, employeeNumber: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.keys(dropId).emp, employeeNumber);
    return v === null ? undefined : Number(v);
  }

  async getDrop(dropId: string): Promise<DropView | undefined> {
    const k = this.keys(dropId);
    const [meta, counts] = await Promise.all([this.redis.hgetall(k.meta), this.redis.hgetall(k.counts)]);
    if (!meta.id) return undefined;
    const parsedMeta: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(meta)) parsedMeta[key] = NUMERIC_META.has(key) ? Number(value) : value;
    const parsedCounts: Record<string, number> = {};
    for (const state of ROW_STATES) parsedCounts[state] = Number(counts[state] ?? 0);
    return { meta: parsedMeta as unknown as DropMeta, counts: parsedCounts, terminal: Number(counts._terminal ?? 0) };
  }

  /**
   * For a drop without metadata: whether traces of it remain (its id in the list of drops, or
   * some of its keys), which means Redis lost the rest (eviction, a partial restore). A drop whose
   * every key is gone (a restart without persistence) leaves none.
   */
  async hasTracesOf(dropId: string): Promise<boolean> {
    const k = this.keys(dropId);
    const [listed, remaining] = await Promise.all([
      this.redis.zscore(dropIndexKey(this.prefix), dropId),
      this.redis.exists(k.counts, k.rows, k.data, k.out),
    ]);
    return listed !== null || remaining > 0;
  }

  async listDrops(limit = 50): Promise<string[]> {
    return this.redis.zrevrange(dropIndexKey(this.prefix), 0, limit - 1);
  }

  /** State, record and outcome of the given rows (missing rows are omitted). */
  async getRows<T = unknown>(
    dropId: string,
    rows: number[],
  ): Promise<{ row: number; state: RowState; data: T | undefined; outcome: RowOutcome }[]> {
    const raw = await this.readRawRows(dropId, rows);
    const result: { row: number; state: RowState; data: T | undefined; outcome: RowOutcome }[] = [];
    rows.forEach((row, i) => {
      const r = raw[i];
      if (r === undefined) return;
      const data = r.data ? (JSON.parse(r.data) as T) : undefined;
      result.push({
        row,
        state: r.state as RowState,
        data,
        outcome: withIdentity(r.out ? (JSON.parse(r.out) as RowOutcome) : {}, data),
      });
    });
    return result;
  }

  /**
   * State and stored outcome of the given rows, without reading their records (missing rows are
   * omitted). Unlike `getRows`, the outcome of a row whose record is still kept does not name the
   * person (userName, employeeNumber): for callers that only look at states and outcome fields.
   */
  async getRowOutcomes(
    dropId: string,
    rows: number[],
  ): Promise<{ row: number; state: RowState; outcome: RowOutcome }[]> {
    const raw = await this.readRawRows(dropId, rows, false);
    const result: { row: number; state: RowState; outcome: RowOutcome }[] = [];
    rows.forEach((row, i) => {
      const r = raw[i];
      if (r === undefined) return;
      result.push({ row, state: r.state as RowState, outcome: r.out ? (JSON.parse(r.out) as RowOutcome) : {} });
    });
    return result;
  }

  /**
   * Rows as stored, from the hashes (read in one MULTI, so a compaction running meanwhile is seen
   * whole or not at all) or, for rows compacted away, from their pages. Without `withData` the
   * records are not read (`data` is null for rows read from the hashes).
   */
  private async readRawRows(dropId: string, rows: readonly number[], withData = true): Promise<(RawRow | undefined)[]> {
    if (rows.length === 0) return [];
    const k = this.keys(dropId);
    const ids = rows.map(String);
    const [states, outs, data] = await this.readRowHashes(k, ids, withData);
    const result: (RawRow | undefined)[] = rows.map((_, i) =>
      states[i] ? { state: states[i]!, out: outs[i] ?? null, data: data?.[i] ?? null } : undefined,
    );
    const missingPages = new Set(rows.filter((_, i) => result[i] === undefined).map(pageOf));
    if (missingPages.size === 0) return result;
    const pages = new Map<number, Map<number, RawRow>>();
    for (const page of missingPages) {
      const buf = await this.redis.getBuffer(`${k.pagePrefix}${page}`);
      if (buf) pages.set(page, decodePage(buf));
    }
    return result.map((r, i) => r ?? pages.get(pageOf(rows[i]!))?.get(rows[i]!));
  }

  /** States, outcomes and (with `withData`) records of rows from the hashes, in one step (a consistent snapshot). */
  private async readRowHashes(
    k: DropKeys,
    ids: readonly string[],
    withData = true,
  ): Promise<[(string | null)[], (string | null)[], (string | null)[] | undefined]> {
    const [states, outs, data] = (await this.scripts.readRows([k.rows, k.out, k.data], [withData ? 1 : 0, ...ids])) as (
      string | null
    )[][];
    return [states!, outs!, data];
  }

  /**
   * Compacts a finished (complete or cancelled) drop: its rows' states, outcomes and records move
   * from per-row hash fields into compressed pages, a few times smaller. Readers see no difference.
   * Safe to run twice at once or to resume after a crash: each page moves in one MULTI.
   * Returns the rows moved (0 when the drop is not finished or already compacted).
   */
  async compactDrop(dropId: string, now = Date.now()): Promise<{ rows: number; pages: number }> {
    const view = await this.getDrop(dropId);
    if (
      !view ||
      (view.meta.status !== 'complete' && view.meta.status !== 'cancelled') ||
      view.meta.compactedAt !== undefined
    )
      return { rows: 0, pages: 0 };
    const k = this.keys(dropId);
    const total = view.meta.rows ?? 0;
    let moved = 0;
    let pages = 0;
    for (let page = 0; page * PAGE_ROWS < total; page += 1) {
      const rows = rowsOfPage(page, total);
      const ids = rows.map(String);
      const [states, outs, data] = await this.readRowHashes(k, ids);
      const present = rows.filter((_, i) => states[i]);
      if (present.length === 0) continue;
      const pageKey = `${k.pagePrefix}${page}`;
      const existing = await this.redis.getBuffer(pageKey);
      const entries = existing ? decodePage(existing) : new Map<number, RawRow>();
      rows.forEach((row, i) => {
        if (states[i]) entries.set(row, { state: states[i]!, out: outs[i] ?? null, data: data?.[i] ?? null });
      });
      const done = await this.redis
        .multi()
        .set(pageKey, encodePage(entries))
        .hdel(k.rows, ...present.map(String))
        .hdel(k.out, ...present.map(String))
        .hdel(k.data, ...present.map(String))
        .exec();
      for (const [err] of done ?? []) if (err) throw err;
      moved += present.length;
      pages += 1;
    }
    await this.redis.hset(k.meta, 'compactedAt', now);
    return { rows: moved, pages };
  }

  /** Every row in row order, in pages (bounded memory for any drop size). */
  async *iterateRows(
    dropId: string,
    pageSize = 1000,
  ): AsyncGenerator<{ row: number; state: RowState; data: unknown; outcome: RowOutcome }> {
    const view = await this.getDrop(dropId);
    if (!view) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
    const total = view.meta.rows ?? (await this.redis.hlen(this.keys(dropId).rows));
    for (let start = 1; start <= total; start += pageSize) {
      const rows = Array.from({ length: Math.min(pageSize, total - start + 1) }, (_, i) => start + i);
      yield* await this.getRows(dropId, rows);
    }
  }

  /**
   * Rejects a drop whose file turned out unreadable before any row was sent: its rows are
   * forgotten and the drop keeps only its status and the reason.
   */
  async rejectDrop(dropId: string, reason: string, now = Date.now()): Promise<void> {
    const k = this.keys(dropId);
    await this.redis.unlink(k.rows, k.data, k.out, k.emp, k.counts, k.plan, k.reactivated);
    await this.redis.hset(k.meta, { status: 'rejected', reason, completedAt: now });
  }

  /**
   * Deletes a finished (complete, cancelled or rejected) drop: every key it has (its rows, pages,
   * waiter sets, plan) and its place in the drop list. A drop still in progress is refused.
   * Returns the row count it had.
   */
  async deleteDrop(dropId: string): Promise<{ rows: number }> {
    const view = await this.getDrop(dropId);
    if (!view) throw new ProvError('PROV_ERR_LEDGER', `unknown drop ${dropId}`);
    refuseUnfinished(dropId, view.meta.status);
    const k = this.keys(dropId);
    const rows = view.meta.rows ?? (await this.redis.hlen(k.rows));
    // Every key name is known, so no SCAN: per-row waiter sets and pages by number, in batches.
    const names = [k.counts, k.rows, k.data, k.out, k.emp, k.plan, k.decisions, k.reactivated];
    for (let page = 0; page * PAGE_ROWS < rows; page += 1) names.push(`${k.pagePrefix}${page}`);
    for (let row = 1; row <= rows; row += 1) {
      names.push(`${k.waitersPrefix}${row}`);
      if (names.length >= 1000) await this.redis.unlink(...names.splice(0));
    }
    if (names.length > 0) await this.redis.unlink(...names);
    // The meta last: a delete cut short leaves the drop listed, so running it again finishes it.
    await this.redis.unlink(k.meta);
    await this.redis.zrem(dropIndexKey(this.prefix), dropId);
    return { rows };
  }

  /** Whether every row of the drop is terminal (true once the drop is complete). */
  async isComplete(dropId: string): Promise<boolean> {
    const view = await this.getDrop(dropId);
    return view?.meta.status === 'complete';
  }

  /** The drop's status alone (one HGET), or undefined for an unknown drop. */
  async dropStatus(dropId: string): Promise<DropStatus | undefined> {
    const v = await this.redis.hget(this.keys(dropId).meta, 'status');
    return v === null ? undefined : (v as DropStatus);
  }

  /**
   * Moves the drop to `to` only if its status is one of `from` (compare-and-set), setting `fields`
   * and deleting `remove` in the same step. Returns whether it moved and the status it had.
   */
  async setStatusIf(
    dropId: string,
    from: readonly DropStatus[],
    to: DropStatus,
    fields: Record<string, string | number> = {},
    remove: readonly string[] = [],
  ): Promise<{ changed: boolean; previous: DropStatus | undefined }> {
    const args: (string | number)[] = [from.join(','), to, remove.join(',')];
    for (const [k, v] of Object.entries(fields)) args.push(k, v);
    const [changed, previous] = (await this.scripts.setStatusIf([this.keys(dropId).meta], args)) as [number, string];
    return { changed: changed === 1, previous: previous === '' ? undefined : (previous as DropStatus) };
  }

  /**
   * Sets a planned, held or paused drop running (`provision approve`): the reason is cleared and
   * the failure brake starts counting afresh. The caller then enqueues the drop's open rows.
   */
  async approve(
    dropId: string,
    from: readonly DropStatus[],
    now = Date.now(),
  ): Promise<{ changed: boolean; previous: DropStatus | undefined; completed: boolean }> {
    const k = this.keys(dropId);
    const [changed, previous, completed] = (await this.scripts.approve(
      [k.meta, k.counts, k.emp],
      [from.join(','), now],
    )) as [number, string, number];
    return {
      changed: changed === 1,
      previous: previous === '' ? undefined : (previous as DropStatus),
      completed: completed === 1,
    };
  }

  /**
   * The failure brake (O(1), from the counters): pauses a running drop whose failures pass
   * `maxFailurePercent` of its settled rows after `minRows` of them. Returns the status after it.
   */
  async checkBrake(
    dropId: string,
    limits: { minRows: number; maxFailurePercent: number },
    now = Date.now(),
  ): Promise<DropStatus | undefined> {
    const k = this.keys(dropId);
    const status = String(
      await this.scripts.brake([k.meta, k.counts], [limits.minRows, limits.maxFailurePercent, now]),
    );
    return status === '' ? undefined : (status as DropStatus);
  }

  /**
   * Counts one identity conflict (the conflict guard, docs/matching.md). Returns the conflicts
   * since the drop was last approved, its rows and its status, for the caller to judge.
   */
  async countConflict(dropId: string): Promise<{ conflicts: number; rows: number; status: DropStatus | undefined }> {
    const meta = this.keys(dropId).meta;
    const res = await this.redis
      .multi()
      .hincrby(meta, 'conflicts', 1)
      .hmget(meta, 'conflictsBase', 'rows', 'status')
      .exec();
    const total = Number(res?.[0]?.[1] ?? 0);
    const [base, rows, status] = (res?.[1]?.[1] ?? []) as (string | null)[];
    return {
      conflicts: total - Number(base ?? 0),
      rows: Number(rows ?? 0),
      status: status === null || status === undefined ? undefined : (status as DropStatus),
    };
  }

  /**
   * Counts the row's re-activation of a person (the deactivation guard, docs/safety.md), once per
   * row. Returns the re-activations and deactivations since the drop was last approved, its rows
   * and its status, for the caller to judge.
   */
  async countReactivation(
    dropId: string,
    row: number,
  ): Promise<{ reactivations: number; deactivations: number; rows: number; status: DropStatus | undefined }> {
    const k = this.keys(dropId);
    const [reactivations, deactivations, rows, status] = (await this.scripts.countReactivation(
      [k.meta, k.reactivated],
      [row],
    )) as [number, number, number, string];
    return {
      reactivations: Number(reactivations),
      deactivations: Number(deactivations),
      rows: Number(rows),
      status: status === '' ? undefined : (status as DropStatus),
    };
  }

  /**
   * An extension batch claims its rows (`dropId:row` entries): `identity_done` rows move to
   * `extension_batched` with the batch id. Returns the entries the batch holds: those it claimed
   * now or before (a retried batch), never a row another batch holds or one that moved on.
   */
  async claimBatch(batchId: string, entries: readonly string[]): Promise<string[]> {
    const groups = groupByDrop(entries);
    if (groups.size === 0) return [];
    const { keys, args } = this.rowKeysByDrop(groups);
    const held = (await this.scripts.claimBatch(keys, [batchId, ...args])) as string[];
    const dropIds = [...groups.keys()];
    return held.map((h) => {
      const [g, row] = h.split(':') as [string, string];
      return `${dropIds[Number(g) - 1] ?? ''}:${row}`;
    });
  }

  /**
   * A Bulk request was accepted: its rows still held by the batch become `extension_submitted`
   * with the provision id, and the provision record is written and listed on its batch, in one
   * step. Returns the rows moved.
   */
  async recordSubmission(record: ProvisionRecord): Promise<number> {
    const { keys, args } = this.rowKeysByDrop(groupByDrop(record.entries));
    const p = this.provisions;
    return Number(
      await this.scripts.recordSubmission(
        [p.provisions, p.batches, ...keys],
        [record.batchId, record.provisionId, JSON.stringify(record), ...args],
      ),
    );
  }

  /** Per drop: its rows, counts and out keys, and the row count then the rows (the batch scripts' layout). */
  private rowKeysByDrop(groups: Map<string, number[]>): { keys: string[]; args: (string | number)[] } {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const [dropId, rows] of groups) {
      const k = this.keys(dropId);
      keys.push(k.rows, k.counts, k.out);
      args.push(rows.length, ...rows);
    }
    return { keys, args };
  }

  /** A meta field of several drops at once (undefined where a drop has none). */
  async dropField(dropIds: readonly string[], field: string): Promise<(string | undefined)[]> {
    const values = await Promise.all(dropIds.map((d) => this.redis.hget(this.keys(d).meta, field)));
    return values.map((v) => v ?? undefined);
  }

  /** Ends every non-terminal row of the drop as `cancelled`, page by page. Returns how many. */
  async cancelRows(dropId: string, reason: string, pageSize = 500): Promise<number> {
    const k = this.keys(dropId);
    const view = await this.getDrop(dropId);
    if (!view) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
    const total = view.meta.rows ?? (await this.redis.hlen(k.rows));
    const patch = JSON.stringify({ error: reason });
    let cancelled = 0;
    for (let start = 1; start <= total; start += pageSize) {
      const rows = Array.from({ length: Math.min(pageSize, total - start + 1) }, (_, i) => String(start + i));
      cancelled += Number(await this.scripts.cancelRows([k.rows, k.counts, k.data, k.out], [patch, ...rows]));
    }
    return cancelled;
  }

  /**
   * Re-opens a rejected drop for a new ingest of the same bytes (e.g. after its manifest was
   * fixed). Returns false when the drop is not rejected (someone else re-opened it).
   */
  async reopenRejected(dropId: string, now = Date.now()): Promise<boolean> {
    const res = await this.setStatusIf(dropId, ['rejected'], 'ingesting', { reopenedAt: now }, [
      'reason',
      'completedAt',
      'rows',
      'ingestedAt',
    ]);
    return res.changed;
  }

  /** Every row's state in row order, in pages (no records read: cheap for re-enqueueing). */
  async *iterateRowStates(dropId: string, pageSize = 2000): AsyncGenerator<{ row: number; state: RowState }> {
    const view = await this.getDrop(dropId);
    if (!view) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
    const k = this.keys(dropId);
    const total = view.meta.rows ?? (await this.redis.hlen(k.rows));
    for (let start = 1; start <= total; start += pageSize) {
      const rows = Array.from({ length: Math.min(pageSize, total - start + 1) }, (_, i) => start + i);
      const ids = rows.map(String);
      const states = await this.redis.hmget(k.rows, ...ids);
      // A compacted drop has its states in pages (rare here: only running drops are re-enqueued).
      const raw = states.some((st) => !st) ? await this.readRawRows(dropId, rows) : undefined;
      for (let i = 0; i < rows.length; i++) {
        const state = states[i] ?? raw?.[i]?.state;
        if (state) yield { row: rows[i]!, state: state as RowState };
      }
    }
  }

  /** Appends a decision to the drop's record (the oldest beyond DECISIONS_KEPT are dropped). */
  async recordDecision(dropId: string, decision: Decision): Promise<void> {
    const key = this.keys(dropId).decisions;
    await this.redis.multi().rpush(key, JSON.stringify(decision)).ltrim(key, -DECISIONS_KEPT, -1).exec();
  }

  /** The decisions taken on the drop, oldest first. */
  async decisions(dropId: string): Promise<Decision[]> {
    const raw = await this.redis.lrange(this.keys(dropId).decisions, 0, -1);
    return raw.map(parseDecision).filter((d): d is Decision => d !== undefined);
  }

  /** Stores planned actions (row -> JSON) for `ingest --plan`. */
  async savePlanRows(dropId: string, entries: readonly { row: number; plan: unknown }[]): Promise<void> {
    if (entries.length === 0) return;
    const fields: string[] = [];
    for (const e of entries) fields.push(String(e.row), JSON.stringify(e.plan));
    await this.redis.hset(this.keys(dropId).plan, ...fields);
  }

  /** The planned actions of these rows (undefined where a row has none). */
  async getPlanRows<T = unknown>(dropId: string, rows: readonly number[]): Promise<(T | undefined)[]> {
    if (rows.length === 0) return [];
    const values = await this.redis.hmget(this.keys(dropId).plan, ...rows.map(String));
    return values.map((v) => (v ? (JSON.parse(v) as T) : undefined));
  }

  /** The planned actions in row order, page by page (rows without one are skipped). */
  async *iteratePlanRows<T = unknown>(dropId: string, pageSize = 1000): AsyncGenerator<T> {
    const view = await this.getDrop(dropId);
    if (!view) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
    const total = view.meta.rows ?? 0;
    for (let start = 1; start <= total; start += pageSize) {
      const ids = Array.from({ length: Math.min(pageSize, total - start + 1) }, (_, i) => String(start + i));
      for (const v of await this.redis.hmget(this.keys(dropId).plan, ...ids)) if (v) yield JSON.parse(v) as T;
    }
  }

  static isTerminal = isTerminal;
}
