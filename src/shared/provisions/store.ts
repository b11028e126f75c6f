import { readFileSync } from 'node:fs';
import { defineScript, type LuaScript, type ScriptRunner } from '../lua.ts';
import type { RedisConnection } from '../redis.ts';
import { provisionKeys, type ProvisionKeys } from '../keys.ts';
import type { BatchRecord, ProvisionRecord } from './entries.ts';

/**
 * The provision state the extension and status stages share: the ready list, batch records,
 * provision records, the provision id -> current status job map and webhook event marks. It moves
 * no row: a batch claims its rows, and a submission is recorded, through the ledger
 * (Ledger.claimBatch, Ledger.recordSubmission), the only writer of row state.
 */

let readyMarks: string | undefined;
/** The ready list's push-time helpers (lua/ready-marks.lua), put before the scripts that push or cut. */
export function readyMarksPrelude(): string {
  readyMarks ??= readFileSync(new URL('./lua/ready-marks.lua', import.meta.url), 'utf8');
  return readyMarks;
}

const CUT_BATCHES: LuaScript = {
  name: 'provProvisionsCutBatches',
  file: new URL('./lua/cut-batches.lua', import.meta.url),
  prelude: readyMarksPrelude,
};

const FINISH_BATCH: LuaScript = {
  name: 'provProvisionsFinishBatch',
  file: new URL('./lua/finish-batch.lua', import.meta.url),
};

const FORGET_PROVISION: LuaScript = {
  name: 'provProvisionsForgetProvision',
  file: new URL('./lua/forget-provision.lua', import.meta.url),
};

export interface CutResult {
  generation: number;
  remaining: number;
  /** When the first entry left was pushed (epoch ms); undefined when none is left or it is unknown. */
  headSince: number | undefined;
  /** When the first entry before the cut was pushed (undefined: none, or unknown). */
  headSinceBefore: number | undefined;
  batches: { batchId: string; entries: string[] }[];
}

/** A script's push time of the head entry: -1 stands for none or unknown. */
export function sinceOf(raw: unknown): number | undefined {
  const n = Number(raw);
  return n >= 0 ? n : undefined;
}

export class ProvisionStore {
  readonly keys: ProvisionKeys;
  private readonly redis: RedisConnection;
  private readonly cutBatches: ScriptRunner;
  private readonly finishBatchScript: ScriptRunner;
  private readonly forgetProvisionScript: ScriptRunner;

  constructor(redis: RedisConnection, prefix: string) {
    this.redis = redis;
    this.keys = provisionKeys(prefix);
    this.cutBatches = defineScript(redis, CUT_BATCHES);
    this.finishBatchScript = defineScript(redis, FINISH_BATCH);
    this.forgetProvisionScript = defineScript(redis, FORGET_PROVISION);
  }

  async readyLength(): Promise<number> {
    return this.redis.llen(this.keys.ready);
  }

  async generation(): Promise<number> {
    return Number((await this.redis.get(this.keys.flushGen)) ?? 0);
  }

  /**
   * Cuts batches off the ready list. fullOnly: only batches of maxOps. Otherwise a last, partial
   * batch is cut only when its first entry was pushed at or before `cutBefore` (or at an unknown
   * time); without `cutBefore` every entry is due.
   */
  async cut(options: {
    maxOps: number;
    maxBatches: number;
    fullOnly: boolean;
    now: number;
    cutBefore?: number;
  }): Promise<CutResult> {
    const k = this.keys;
    const raw = (await this.cutBatches(
      [k.ready, k.flushGen, k.batchSeq, k.batches, k.unsent, k.readyMarks, k.readySeq],
      [options.maxOps, options.maxBatches, options.fullOnly ? 1 : 0, options.now, options.cutBefore ?? ''],
    )) as (string | number)[];
    const batches: CutResult['batches'] = [];
    for (let i = 4; i < raw.length; i += 2)
      batches.push({ batchId: String(raw[i]), entries: String(raw[i + 1]).split(',') });
    return {
      generation: Number(raw[0]),
      remaining: Number(raw[1]),
      headSince: sinceOf(raw[2]),
      headSinceBefore: sinceOf(raw[3]),
      batches,
    };
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
    await this.finishBatchScript([this.keys.unsent, this.keys.batches], [batchId]);
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

  /** Every provision whose rows have not settled yet, a page at a time (HSCAN: may repeat one). */
  async *provisions(pageSize = 200): AsyncGenerator<ProvisionRecord> {
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.keys.provisions, cursor, 'COUNT', pageSize);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) yield JSON.parse(flat[i + 1]!) as ProvisionRecord;
    } while (cursor !== '0');
  }

  /** The provision's rows have settled: forget it and its status job. */
  async forgetProvision(provisionId: string): Promise<void> {
    await this.forgetProvisionScript([this.keys.provisions, this.keys.statusJobs], [provisionId]);
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
    await this.redis.set(`${this.keys.earlyEventPrefix}${provisionId}`, '1', 'PX', ttlMs);
  }

  async takeEarlyEvent(provisionId: string): Promise<boolean> {
    return (await this.redis.del(`${this.keys.earlyEventPrefix}${provisionId}`)) === 1;
  }

  /** Whether a webhook event id was handled already (within its TTL). */
  async seenEvent(eventId: string): Promise<boolean> {
    return (await this.redis.exists(`${this.keys.eventPrefix}${eventId}`)) === 1;
  }

  /** Remembers a handled webhook event id for `ttlMs` (set only once the event was handled). */
  async markEventSeen(eventId: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.keys.eventPrefix}${eventId}`, '1', 'PX', ttlMs);
  }
}
