import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The ledger is the only writer of row state (docs/architecture.md#row-lifecycle): no module
 * outside src/shared/ledger/ gets the ledger's key names, every key name is built in
 * src/shared/keys.ts, and Lua reaches Redis through one loader (src/shared/lua.ts).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
const sources = files(join(root, 'src'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: relative(root, f), text: readFileSync(f, 'utf8') }));

/** Names a module imports from src/shared/keys.ts. */
function importedKeyBuilders(file: string, text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    const target = resolve(root, dirname(file), m[2]!);
    if (target !== join(root, 'src/shared/keys.ts')) continue;
    names.push(...m[1]!.split(',').map((n) => n.replace(/^type\s+/, '').trim()));
  }
  return names;
}

describe('who writes the ledger', () => {
  it('no module outside src/shared/ledger/ takes the ledger key builders', () => {
    const offenders = sources
      .filter((s) => !s.file.startsWith('src/shared/ledger/'))
      .flatMap((s) =>
        importedKeyBuilders(s.file, s.text)
          .filter((n) => n === 'dropKeys' || n === 'dropIndexKey')
          .map((n) => `${s.file}: ${n}`),
      );
    expect(offenders).toEqual([]);
  });

  it('no module but src/shared/keys.ts spells a ledger or provision key, or builds a key under a prefix', () => {
    const offenders = sources
      .filter((s) => s.file !== 'src/shared/keys.ts')
      .filter((s) => /[`'"][^`'"\n]*:(ledger|ext)(:|[`'"])/.test(s.text) || /[pP]refix\}:/.test(s.text))
      .map((s) => s.file);
    expect(offenders).toEqual([]);
  });

  it('only src/shared/lua.ts defines Redis commands, and no module sends a script inline', () => {
    const defining = sources.filter((s) => s.text.includes('defineCommand(')).map((s) => s.file);
    expect(defining).toEqual(['src/shared/lua.ts']);
    const inline = sources.filter((s) => /redis\.call\(|\.eval\(/.test(s.text)).map((s) => s.file);
    expect(inline).toEqual([]);
  });
});
