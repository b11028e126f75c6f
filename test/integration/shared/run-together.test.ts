import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ScriptBatcher, runScript, runTogether, type LuaScript } from '../../../src/shared/lua.ts';
import { countCommands, deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

/*
 * runTogether against a real Redis: several scripts in one round trip, each seeing only its own
 * KEYS and ARGV, run in order, each reply returned in place.
 */

const redis = testRedis();
const prefix = uniquePrefix('together');
const dir = mkdtempSync(join(tmpdir(), 'prov-lua-'));

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

function script(name: string, lua: string): LuaScript {
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, lua);
  return { name, file: pathToFileURL(file) };
}

const setThenEcho = script('testTogetherSet', "redis.call('SET', KEYS[1], ARGV[1])\nreturn {#KEYS, #ARGV, ARGV[2]}\n");
const nothing = script('testTogetherNothing', "redis.call('INCR', KEYS[1])\n");
const readBoth = script('testTogetherRead', "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), #ARGV}\n");
const withPrelude: LuaScript = {
  ...script('testTogetherPrelude', 'return twice(ARGV[1])\n'),
  prelude: () => 'local function twice(s) return s .. s end\n',
};

describe('runTogether', () => {
  it('runs each script on its own keys and arguments, in order, and returns every reply', async () => {
    const a = `${prefix}:a`;
    const n = `${prefix}:n`;
    const replies = await runTogether(redis, [
      { script: setThenEcho, keys: [a], args: ['one', 'echo'] },
      { script: nothing, keys: [n], args: [] },
      { script: readBoth, keys: [a, n], args: [1, 2, 3] },
      { script: withPrelude, keys: [], args: ['ab'] },
    ]);
    // The third call reads what the first two wrote: they ran before it.
    expect(replies).toEqual([[1, 2, 'echo'], null, ['one', '1', 3], 'abab']);
  });

  it('gives the same reply as the script sent alone', async () => {
    const a = `${prefix}:b`;
    const alone = await runScript(redis, { script: setThenEcho, keys: [a], args: ['x', 'y'] });
    const together = await runTogether(redis, [{ script: setThenEcho, keys: [a], args: ['x', 'y'] }]);
    expect(together).toEqual([alone]);
  });
});

describe('ScriptBatcher', () => {
  it('sends the calls of one event-loop turn together, each caller getting its own replies or its own error', async () => {
    const batcher = new ScriptBatcher(redis);
    const sent = countCommands(redis);
    try {
      const s = `${prefix}:s`;
      await redis.set(s, 'not a number');
      // Warm: the shared script is loaded once (its first EVALSHA may be answered NOSCRIPT).
      await Promise.all([
        batcher.run([{ script: nothing, keys: [`${prefix}:w`], args: [] }]),
        batcher.run([{ script: setThenEcho, keys: [`${prefix}:w2`], args: ['v', 'e'] }]),
      ]);
      sent.reset();
      const results = await Promise.allSettled([
        batcher.run([{ script: setThenEcho, keys: [`${prefix}:c`], args: ['1', 'first'] }]),
        // INCR of a string: this caller's call fails, nobody else's.
        batcher.run([{ script: nothing, keys: [s], args: [] }]),
        batcher.run([
          { script: nothing, keys: [`${prefix}:m`], args: [] },
          { script: setThenEcho, keys: [`${prefix}:d`], args: ['2', 'third'] },
        ]),
      ]);
      expect(sent.n).toBe(1);
      expect(results[0]).toEqual({ status: 'fulfilled', value: [[1, 2, 'first']] });
      expect(results[1]?.status).toBe('rejected');
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/not an integer/);
      expect(results[2]).toEqual({ status: 'fulfilled', value: [null, [1, 2, 'third']] });
      expect(await redis.mget(`${prefix}:c`, `${prefix}:m`, `${prefix}:d`)).toEqual(['1', '1', '2']);
    } finally {
      sent.restore();
    }
  });

  it('only gathers calls under one hash tag (one cluster slot) into one script', async () => {
    const batcher = new ScriptBatcher(redis);
    const other = uniquePrefix('together-other');
    const sent = countCommands(redis);
    try {
      const replies = await Promise.all([
        batcher.run([{ script: setThenEcho, keys: [`${prefix}:t1`], args: ['a', 'x'] }]),
        batcher.run([{ script: setThenEcho, keys: [`${other}:t2`], args: ['b', 'y'] }]),
        batcher.run([{ script: setThenEcho, keys: [`${prefix}:t3`], args: ['c', 'z'] }]),
      ]);
      expect(replies).toEqual([[[1, 2, 'x']], [[1, 2, 'y']], [[1, 2, 'z']]]);
      // Two scripts: one per tag (a first run of a new script may add its NOSCRIPT retry).
      expect(sent.n).toBeGreaterThanOrEqual(2);
      expect(await redis.mget(`${prefix}:t1`, `${other}:t2`, `${prefix}:t3`)).toEqual(['a', 'b', 'c']);
      sent.reset();
      await Promise.all([
        batcher.run([{ script: setThenEcho, keys: [`${prefix}:t1`], args: ['a', 'x'] }]),
        batcher.run([{ script: setThenEcho, keys: [`${prefix}:t3`], args: ['c', 'z'] }]),
        batcher.run([{ script: setThenEcho, keys: [`${other}:t2`], args: ['b', 'y'] }]),
      ]);
      expect(sent.n).toBe(2);
    } finally {
      sent.restore();
      await deletePrefix(redis, other);
    }
  });

  it('fails a lone failing call on its own, and runTogether throws it', async () => {
    const s = `${prefix}:s2`;
    await redis.set(s, 'text');
    await expect(new ScriptBatcher(redis).run([{ script: nothing, keys: [s], args: [] }])).rejects.toThrow(
      /not an integer/,
    );
    await expect(
      runTogether(redis, [
        { script: nothing, keys: [s], args: [] },
        { script: setThenEcho, keys: [`${prefix}:after`], args: ['x', 'y'] },
      ]),
    ).rejects.toThrow(/not an integer/);
    // The call after the failed one still ran, as it would have alone.
    expect(await redis.get(`${prefix}:after`)).toBe('x');
  });
});
