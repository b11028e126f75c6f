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
 * key must live in one cluster slot, as for any script.
 */
export async function runTogether(redis: RedisConnection, calls: readonly ScriptCall[]): Promise<unknown[]> {
  if (calls.length === 1) return [await runScript(redis, calls[0]!)];
  const scripts = calls.map((c) => c.script);
  const run = defineNamed(redis, `provTogether_${scripts.map((s) => s.name).join('_')}`, () => togetherSource(scripts));
  const counts = calls.flatMap((c) => [c.keys.length, c.args.length]);
  return (await run(
    calls.flatMap((c) => c.keys),
    [...counts, ...calls.flatMap((c) => c.args)],
  )) as unknown[];
}

/** The Lua of `runTogether`: each script as `call_i(KEYS, ARGV)`, then a loop handing each its slice. */
function togetherSource(scripts: readonly LuaScript[]): string {
  const fns = scripts.map((s, i) => `local function call_${i + 1}(KEYS, ARGV)\n${luaSource(s)}\nend\n`);
  return `${fns.join('')}local calls = {${scripts.map((_, i) => `call_${i + 1}`).join(', ')}}
-- ARGV: (key count, argument count) of each call, then every call's arguments; KEYS: every call's keys
local out, ki, ai = {}, 1, 2 * #calls + 1
for i, fn in ipairs(calls) do
  local nk, na = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local k, a = {}, {}
  for j = 1, nk do k[j] = KEYS[ki + j - 1] end
  for j = 1, na do a[j] = ARGV[ai + j - 1] end
  ki, ai = ki + nk, ai + na
  local reply = fn(k, a)
  if reply == nil then reply = false end
  out[i] = reply
end
return out
`;
}
