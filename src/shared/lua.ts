import { readFileSync } from 'node:fs';
import type { RedisConnection } from './redis.ts';

/**
 * The one place Lua scripts reach Redis (docs/architecture.md#lua-scripts). Each script is a `.lua`
 * file beside the module that runs it, opening with a header that lists its KEYS and ARGV; the
 * build copies the files into dist/ next to the compiled modules.
 */
export interface LuaScript {
  /** The command name ioredis defines on a connection: unique across the code. */
  readonly name: string;
  /** The `.lua` file (`new URL('./lua/x.lua', import.meta.url)`). */
  readonly file: URL;
  /** Lua put before the file's own (helpers and tables several scripts share). */
  readonly prelude?: () => string;
}

/** Runs a defined script: KEYS then ARGV, the key count passed for the caller. */
export type ScriptRunner = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

const sources = new Map<string, { file: string; text: string }>();

/** The text Redis runs: the prelude, then the file (read once per process). */
export function luaSource(script: LuaScript): string {
  const file = script.file.href;
  const known = sources.get(script.name);
  if (known) {
    if (known.file !== file) throw new Error(`Lua script name ${script.name} is used by ${known.file} and ${file}`);
    return known.text;
  }
  const text = `${script.prelude?.() ?? ''}${readFileSync(script.file, 'utf8')}`;
  sources.set(script.name, { file, text });
  return text;
}

/**
 * Defines the script on the connection (once: ioredis keeps it, with its SHA, for EVALSHA) and
 * returns a runner for it.
 */
export function defineScript(redis: RedisConnection, script: LuaScript): ScriptRunner {
  return defineNamed(redis, script.name, () => luaSource(script));
}

function defineNamed(redis: RedisConnection, name: string, source: () => string): ScriptRunner {
  const commands = redis as unknown as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
  if (typeof commands[name] !== 'function') redis.defineCommand(name, { lua: source() });
  const run = commands[name]!.bind(redis);
  return (keys, args) => run(keys.length, ...keys, ...args);
}

/** One run of a script with its keys and arguments, to send on its own or with others (`runTogether`). */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
}

/** Runs one call on its own. */
export function runScript(redis: RedisConnection, call: ScriptCall): Promise<unknown> {
  return defineScript(redis, call.script)(call.keys, call.args);
}

/**
 * Runs several calls, in order, in one script and one round trip (each Redis command costs a
 * socket write, dearer than the work a row's small scripts ask for). Each call's file runs as a
 * function of its own KEYS and ARGV, so it behaves as when sent alone; together they are also
 * atomic. Returns each call's reply, in order (a script that returns nothing gives null). Every
 * key must live in one cluster slot, as for any script. One Redis script serves every sequence of
 * calls to the same scripts.
 */
export async function runTogether(redis: RedisConnection, calls: readonly ScriptCall[]): Promise<unknown[]> {
  const replies = await sendTogether(redis, calls);
  const failed = replies.find((r) => r instanceof Error);
  if (failed) throw failed;
  return replies;
}

/** `runTogether`, with each failed call's error in its place instead of thrown. */
async function sendTogether(redis: RedisConnection, calls: readonly ScriptCall[]): Promise<unknown[]> {
  if (calls.length === 1) return [await runScript(redis, calls[0]!).catch((err: unknown) => err)];
  const scripts = [...new Set(calls.map((c) => c.script))].sort((a, b) => (a.name < b.name ? -1 : 1));
  const run = defineNamed(redis, `provTogether_${scripts.map((s) => s.name).join('_')}`, () => togetherSource(scripts));
  const head = [calls.length, ...calls.flatMap((c) => [scripts.indexOf(c.script) + 1, c.keys.length, c.args.length])];
  return (await run(
    calls.flatMap((c) => c.keys),
    [...head, ...calls.flatMap((c) => c.args)],
  )) as unknown[];
}

/** The Lua of `runTogether`: each script as a function of its own KEYS and ARGV, then the calls in order. */
function togetherSource(scripts: readonly LuaScript[]): string {
  const fns = scripts.map((s, i) => `local function script_${i + 1}(KEYS, ARGV)\n${luaSource(s)}\nend\n`);
  return `${fns.join('')}local scripts = {${scripts.map((_, i) => `script_${i + 1}`).join(', ')}}
-- ARGV: the call count n, then (script, key count, argument count) of each call, then every
-- call's arguments; KEYS: every call's keys
local n = tonumber(ARGV[1])
local out, ki, ai = {}, 1, 3 * n + 2
for i = 1, n do
  local fn, nk, na = scripts[tonumber(ARGV[3 * i - 1])], tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local k, a = {}, {}
  for j = 1, nk do k[j] = KEYS[ki + j - 1] end
  for j = 1, na do a[j] = ARGV[ai + j - 1] end
  ki, ai = ki + nk, ai + na
  -- A failing call gives its error in its place; the calls after it still run, as if sent alone.
  local ok, reply = pcall(fn, k, a)
  if not ok then
    if type(reply) ~= 'table' or reply.err == nil then reply = { err = tostring(reply) } end
  elseif reply == nil then
    reply = false
  end
  out[i] = reply
end
return out
`;
}

/** Calls per script run of a `ScriptBatcher`: bounds the time one run holds Redis. */
const BATCH_CALLS = 256;

/** One caller's calls of a turn, and how to answer it. */
interface Group {
  calls: readonly ScriptCall[];
  done: (replies: unknown[]) => void;
  failed: (err: unknown) => void;
}

/** The hash tag (`{...}`) of a group's first key: '' for no keys, undefined for a key without one. */
function hashTagOf(calls: readonly ScriptCall[]): string | undefined {
  const key = calls.find((c) => c.keys.length > 0)?.keys[0];
  return key === undefined ? '' : /\{[^}]*\}/.exec(key)?.[0];
}

/**
 * Gathers the script calls made during one turn of the event loop (the callbacks of every answer
 * that arrived together) and sends them in one round trip: a busy worker's rows share socket
 * writes, a lone call waits only for the turn to end. Each caller gets its own replies, or the
 * error of its own failed call: a faulty call fails nobody else's.
 */
export class ScriptBatcher {
  private pending: Group[] = [];

  constructor(private readonly redis: RedisConnection) {}

  /** Runs `calls` (in order, together) with whatever else is sent this turn. */
  run(calls: readonly ScriptCall[]): Promise<unknown[]> {
    return new Promise((done, failed) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ calls, done, failed });
    });
  }

  private async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    // One script runs in one cluster slot: only calls under one hash tag share it.
    const bySlot = new Map<string | Group, Group[]>();
    for (const g of all) {
      const tag = hashTagOf(g.calls);
      const slot = tag ?? g;
      let set = bySlot.get(slot);
      if (!set) bySlot.set(slot, (set = []));
      set.push(g);
    }
    await Promise.all([...bySlot.values()].map((groups) => this.sendInRuns(groups)));
  }

  /** Sends groups in runs of at most BATCH_CALLS calls (a group is never split). */
  private async sendInRuns(all: Group[]): Promise<void> {
    for (let start = 0; start < all.length;) {
      const groups = [];
      let size = 0;
      while (start < all.length && (groups.length === 0 || size + all[start]!.calls.length <= BATCH_CALLS)) {
        size += all[start]!.calls.length;
        groups.push(all[start++]!);
      }
      await this.send(groups);
    }
  }

  private async send(groups: Group[]): Promise<void> {
    let replies: unknown[];
    try {
      replies = await sendTogether(
        this.redis,
        groups.flatMap((g) => g.calls),
      );
    } catch (err) {
      // Nothing ran, or Redis itself failed (connection, memory): every caller is told.
      for (const g of groups) g.failed(err);
      return;
    }
    let at = 0;
    for (const g of groups) {
      const own = replies.slice(at, at + g.calls.length);
      at += g.calls.length;
      const failed = own.find((r) => r instanceof Error);
      if (failed) g.failed(failed);
      else g.done(own);
    }
  }
}

const batchers = new WeakMap<RedisConnection, ScriptBatcher>();

/** The connection's one batcher: every module's calls of a turn share its round trip. */
export function batcherOf(redis: RedisConnection): ScriptBatcher {
  let batcher = batchers.get(redis);
  if (!batcher) {
    batcher = new ScriptBatcher(redis);
    batchers.set(redis, batcher);
  }
  return batcher;
}
