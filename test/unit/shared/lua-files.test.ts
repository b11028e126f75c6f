import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
const src = join(root, 'src');
const luaFiles = files(src)
  .filter((f) => f.endsWith('.lua'))
  .map((f) => relative(root, f));
const tsText = files(src)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

/** The header: the comment lines a file opens with. */
function header(text: string): string[] {
  const lines = text.split('\n');
  const end = lines.findIndex((l) => !l.startsWith('--'));
  return lines.slice(0, end === -1 ? lines.length : end);
}

/** Names in a header list (`rows, counts, waiters(row)`), or undefined when the list is open-ended. */
function named(list: string): string[] | undefined {
  if (list.includes('...')) return undefined;
  const names: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      names.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') names.push(current.trim());
  return names.filter((n) => n !== '' && n !== 'none (each function takes the keys it touches)');
}

describe('Lua scripts', () => {
  it('exist as .lua files', () => {
    expect(luaFiles.length).toBeGreaterThan(10);
  });

  it.each(luaFiles)('%s opens with a header naming its KEYS and ARGV, and uses no key it does not name', (file) => {
    const text = readFileSync(join(root, file), 'utf8');
    const head = header(text);
    const keysLine = head.find((l) => l.startsWith('-- KEYS:'));
    expect(keysLine, 'a `-- KEYS:` line').toBeDefined();
    expect(
      head.some((l) => l.startsWith('-- ARGV:')),
      'a `-- ARGV:` line',
    ).toBe(true);
    const keys = named(keysLine!.slice('-- KEYS:'.length));
    if (keys === undefined) return;
    const used = [...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
    expect(Math.max(0, ...used), `KEYS used beyond the ${keys.length} named`).toBeLessThanOrEqual(keys.length);
  });

  it.each(luaFiles)('%s is run by a module (its name appears in src/)', (file) => {
    const name = file
      .split('/')
      .pop()!
      .replace(/\.lua$/, '');
    expect(tsText.includes(`${name}.lua`) || tsText.includes(`'${name}'`)).toBe(true);
  });

  it.each(luaFiles)('%s ships in the compiled build (dist/)', (file) => {
    const built = join(root, 'dist', relative('src', file));
    expect(existsSync(built), built).toBe(true);
    expect(readFileSync(built, 'utf8')).toBe(readFileSync(join(root, file), 'utf8'));
  });
});
