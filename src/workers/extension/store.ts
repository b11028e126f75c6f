import type { RedisConnection } from '../../shared/redis.ts';
import { dropKeys } from '../../shared/ledger/keys.ts';
import { extensionKeys, parseEntry, type ExtensionKeys } from './keys.ts';

/**
 * The extension stage's own Redis state: the ready list, batch records, provision records and the
 * provision id -> current status job map. Every change that also moves ledger rows is one Lua
 * script with every key declared (cluster-safe: all keys share the prefix's hash tag).
 */

/**
 * KEYS: ready, flushGen, batchSeq, batches, unsent
 * ARGV: maxOps, maxBatches, fullOnly (0|1), now
 * Bumps the flush generation, then cuts up to maxBatches batches off the head of the list.
 * Returns { generation, remaining, batchId1, entriesCsv1, batchId2, ... }.
 */
const CUT = `
local maxOps, maxBatches, fullOnly, now = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4]
local gen = redis.call('INCR', KEYS[2])
local out = { gen, 0 }
for i = 1, maxBatches do
  local len = redis.call('LLEN', KEYS[1])
  if len == 0 or (fullOnly and len < maxOps) then break end
  local entries = redis.call('LRANGE', KEYS[1], 0, maxOps - 1)
  redis.call('LTRIM', KEYS[1], #entries, -1)
  local batchId = 'b' .. redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[4], batchId, cjson.encode({ entries = entries, createdAt = tonumber(now), provisions = {} }))
  redis.call('ZADD', KEYS[5], now, batchId)
  table.insert(out, batchId)
  table.insert(out, table.concat(entries, ','))
end
out[2] = redis.call('LLEN', KEYS[1])
return out
`;

/** Shared Lua: merge a patch into a row's outcome (cjson.null removes a key). */
const MERGE_OUT = `
local function merge_out(outKey, row, patch)
  local raw = redis.call('HGET', outKey, row)
  local o = raw and cjson.decode(raw) or {}
  for k, v in pairs(patch) do
    if v == cjson.null then o[k] = nil else o[k] = v end
  end
  redis.call('HSET', outKey, row, cjson.encode(o))
  return o
end
local function read_out(outKey, row)
  local raw = redis.call('HGET', outKey, row)
  return raw and cjson.decode(raw) or {}
end
`;

/**
 * KEYS: per drop: rows, counts, out (3 keys each, in group order)
 * ARGV: batchId, then per drop: n, row1..rowN
 * Takes the rows into the batch: identity_done -> extension_batched with batchId; a row already
 * batched by this batch stays. Returns the owned rows as 'groupIndex:row'.
 */
const MARK_BATCHED = `
${MERGE_OUT}
local batchId = ARGV[1]
local owned = {}
local a = 2
local g = 0
while a <= #ARGV do
  g = g + 1
  local rowsKey, countsKey, outKey = KEYS[g * 3 - 2], KEYS[g * 3 - 1], KEYS[g * 3]
  local n = tonumber(ARGV[a])
  for i = 1, n do
    local row = ARGV[a + i]
    local state = redis.call('HGET', rowsKey, row)
    if state == 'identity_done' then
      redis.call('HSET', rowsKey, row, 'extension_batched')
      redis.call('HINCRBY', countsKey, 'identity_done', -1)
      redis.call('HINCRBY', countsKey, 'extension_batched', 1)
      merge_out(outKey, row, { batchId = batchId })
      table.insert(owned, g .. ':' .. row)
    elseif state == 'extension_batched' and read_out(outKey, row)['batchId'] == batchId then
      table.insert(owned, g .. ':' .. row)
    end
  end
  a = a + n + 1
end
return owned
`;

/**
 * KEYS: provisions, batches, then per drop: rows, counts, out
 * ARGV: batchId, provisionId, provisionJson (with the submission time), then per drop: n, rows...
 * The Bulk was accepted: its rows (still batched by this batch) become extension_submitted with the
 * provision id, the provision record is written and the batch lists it, all in one step.
 * Returns the number of rows moved.
 */
const RECORD_PROVISION = `
${MERGE_OUT}
local batchId, pid = ARGV[1], ARGV[2]
local moved = 0
local a = 4
local g = 0
while a <= #ARGV do
  g = g + 1
  local rowsKey, countsKey, outKey = KEYS[2 + g * 3 - 2], KEYS[2 + g * 3 - 1], KEYS[2 + g * 3]
  local n = tonumber(ARGV[a])
  for i = 1, n do
    local row = ARGV[a + i]
    if redis.call('HGET', rowsKey, row) == 'extension_batched' and read_out(outKey, row)['batchId'] == batchId then
      redis.call('HSET', rowsKey, row, 'extension_submitted')
      redis.call('HINCRBY', countsKey, 'extension_batched', -1)
      redis.call('HINCRBY', countsKey, 'extension_submitted', 1)
      -- The batch id has served (the provision record keeps it, with the submission time): the
      -- row keeps only the provision id, which the report shows.
      merge_out(outKey, row, { provisionId = pid, batchId = cjson.null })
      moved = moved + 1
    end
  end
  a = a + n + 1
end
redis.call('HSET', KEYS[1], pid, ARGV[3])
local raw = redis.call('HGET', KEYS[2], batchId)
if raw then
  local b = cjson.decode(raw)
  local list = b['provisions']
  if type(list) ~= 'table' then list = {} end
  table.insert(list, pid)
  b['provisions'] = list
  redis.call('HSET', KEYS[2], batchId, cjson.encode(b))
end
return moved
`;

export interface BatchRecord {
  batchId: string;
  entries: string[];
  createdAt: number;
  provisions: string[];
}

export interface ProvisionRecord {
  provisionId: string;
  batchId: string;
  entries: string[];
  submittedAt: number;
}

export interface CutResult {
  generation: number;
  remaining: number;
  batches: { batchId: string; entries: string[] }[];
}

type Runner = (keys: string[], args: (string | number)[]) => Promise<unknown>;

/** Groups `dropId:row` entries by drop (order kept) for the per-drop key triples of the scripts. */
export function groupByDrop(entries: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const e of entries) {
    const { dropId, row } = parseEntry(e);
    const list = groups.get(dropId) ?? [];
    list.push(row);
    groups.set(dropId, list);
  }
  return groups;
}

export class ExtensionStore {
  readonly keys: ExtensionKeys;
  private readonly redis: RedisConnection;
  private readonly prefix: string;
  private readonly run: Record<'cut' | 'mark' | 'record', Runner>;

  constructor(redis: RedisConnection, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
    this.keys = extensionKeys(prefix);
    this.run = {
      cut: this.script('provExtCut', CUT),
      mark: this.script('provExtMarkBatched', MARK_BATCHED),
      record: this.script('provExtRecordProvision', RECORD_PROVISION),
    };
  }

  private script(name: string, lua: string): Runner {
    const r = this.redis as unknown as Record<string, unknown>;
    if (typeof r[name] !== 'function') this.redis.defineCommand(name, { lua });
    return (keys, args) =>
      (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(
        keys.length,
        ...keys,
        ...args,
      );
  }

  private dropTriples(groups: Map<string, number[]>): { keys: string[]; args: (string | number)[] } {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const [dropId, rows] of groups) {
      const k = dropKeys(this.prefix, dropId);
      keys.push(k.rows, k.counts, k.out);
      args.push(rows.length, ...rows);
    }
    return { keys, args };
  }

  async readyLength(): Promise<number> {
    return this.redis.llen(this.keys.ready);
  }

  async generation(): Promise<number> {
    return Number((await this.redis.get(this.keys.flushGen)) ?? 0);
  }

  /** Cuts batches off the ready list (fullOnly: only batches of maxOps). */
  async cut(options: { maxOps: number; maxBatches: number; fullOnly: boolean; now: number }): Promise<CutResult> {
    const k = this.keys;
    const raw = (await this.run.cut(
      [k.ready, k.flushGen, k.batchSeq, k.batches, k.unsent],
      [options.maxOps, options.maxBatches, options.fullOnly ? 1 : 0, options.now],
    )) as (string | number)[];
    const batches: CutResult['batches'] = [];
    for (let i = 2; i < raw.length; i += 2)
      batches.push({ batchId: String(raw[i]), entries: String(raw[i + 1]).split(',') });
    return { generation: Number(raw[0]), remaining: Number(raw[1]), batches };
  }

  /** Takes the entries' rows into the batch; returns the entries the batch owns. */
  async markBatched(batchId: string, entries: readonly string[]): Promise<string[]> {
    const groups = groupByDrop(entries);
    if (groups.size === 0) return [];
    const { keys, args } = this.dropTriples(groups);
    const owned = (await this.run.mark(keys, [batchId, ...args])) as string[];
    const dropIds = [...groups.keys()];
    return owned.map((o) => {
      const [g, row] = o.split(':') as [string, string];
      return `${dropIds[Number(g) - 1] ?? ''}:${row}`;
    });
  }

  async recordProvision(record: ProvisionRecord): Promise<number> {
    const groups = groupByDrop(record.entries);
    const { keys, args } = this.dropTriples(groups);
    const k = this.keys;
    return Number(
      await this.run.record(
        [k.provisions, k.batches, ...keys],
        [record.batchId, record.provisionId, JSON.stringify(record), ...args],
      ),
    );
  }

  async getBatch(batchId: string): Promise<BatchRecord | undefined> {
    const raw = await this.redis.hget(this.keys.batches, batchId);
    if (raw === null) return undefined;
    const b = JSON.parse(raw) as { entries?: unknown; createdAt?: number; provisions?: unknown };
    // cjson writes an empty list as {}.
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
    return { batchId, entries: list(b.entries), createdAt: Number(b.createdAt ?? 0), provisions: list(b.provisions) };
  }

  /** The batch is fully sent (every row has a provision id or a terminal state). */
  async finishBatch(batchId: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.unsent, batchId).hdel(this.keys.batches, batchId).exec();
  }

  /** Batches still unsent that were cut before `before` (crash recovery). */
  async staleBatches(before: number, limit = 1000): Promise<string[]> {
    return this.redis.zrangebyscore(
      this.keys.unsent,
      '-inf',
      Number.isFinite(before) ? before : '+inf',
      'LIMIT',
      0,
      limit,
    );
  }

  async getProvision(provisionId: string): Promise<ProvisionRecord | undefined> {
    const raw = await this.redis.hget(this.keys.provisions, provisionId);
    return raw === null ? undefined : (JSON.parse(raw) as ProvisionRecord);
  }

  /** The provision is settled: forget it and its status job. */
  async forgetProvision(provisionId: string): Promise<void> {
    await this.redis.multi().hdel(this.keys.provisions, provisionId).hdel(this.keys.statusJobs, provisionId).exec();
  }

  async statusJobOf(provisionId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.statusJobs, provisionId)) ?? undefined;
  }

  async setStatusJob(provisionId: string, jobId: string, onlyIfAbsent = false): Promise<boolean> {
    if (onlyIfAbsent) return (await this.redis.hsetnx(this.keys.statusJobs, provisionId, jobId)) === 1;
    await this.redis.hset(this.keys.statusJobs, provisionId, jobId);
    return true;
  }

  /** A completion event arrived before we knew the provision: remember it for a while. */
  async noteEarlyEvent(provisionId: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.keys.eventPrefix}early:${provisionId}`, '1', 'PX', ttlMs);
  }

  async takeEarlyEvent(provisionId: string): Promise<boolean> {
    return (await this.redis.del(`${this.keys.eventPrefix}early:${provisionId}`)) === 1;
  }

  /** True the first time an event id is seen (within ttl). */
  /** Whether a webhook event id was handled already (within its TTL). */
  async seenEvent(eventId: string): Promise<boolean> {
    return (await this.redis.exists(`${this.keys.eventPrefix}${eventId}`)) === 1;
  }

  /** Remembers a handled webhook event id for `ttlMs` (set only once the event was handled). */
  async markEventSeen(eventId: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.keys.eventPrefix}${eventId}`, '1', 'PX', ttlMs);
  }
}
