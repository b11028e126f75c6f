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

/** Runs a defined script: KEYS then ARGV (a Buffer is sent as its bytes), the key count passed for the caller. */
export type ScriptRunner = (keys: readonly string[], args: readonly (string | number | Buffer)[]) => Promise<unknown>;

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
  const commands = redis as unknown as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
  if (typeof commands[script.name] !== 'function') redis.defineCommand(script.name, { lua: luaSource(script) });
  const run = commands[script.name]!.bind(redis);
  return (keys, args) => run(keys.length, ...keys, ...args);
}
