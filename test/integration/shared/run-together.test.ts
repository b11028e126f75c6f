import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript, runTogether, type LuaScript } from '../../../src/shared/lua.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

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
