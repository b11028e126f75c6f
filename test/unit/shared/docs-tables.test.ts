import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/shared/errors.ts';
import { configKeys } from '../../../src/shared/config.ts';
import { redisKeyTable } from '../../../src/shared/keys.ts';
import { renderStateDiagram } from '../../../src/shared/ledger/state-diagram.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

function tableKeys(path: string, heading: string): string[] {
  const section = read(path)
    .split(/^##? /m)
    .find((s) => s.startsWith(heading));
  if (!section) throw new Error(`${path} has no "${heading}" section`);
  return [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? '');
}

/** The text between `<!-- name:start -->` and `<!-- name:end -->` of a doc, trimmed. */
function generated(path: string, name: string): string {
  const text = read(path);
  const start = text.indexOf(`<!-- ${name}:start -->`);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`${path} has no ${name} section`);
  return text.slice(start + `<!-- ${name}:start -->`.length, end).trim();
}

/** Table rows as cells, the formatter's padding ignored. */
function cells(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l))
    .map((l) =>
      l
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

const markdownFiles = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

describe('documentation tables', () => {
  it('lists exactly the error codes the code defines', () => {
    expect(tableKeys('docs/errors.md', 'Error codes').sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('lists exactly the configuration keys of the env schema', () => {
    expect(tableKeys('docs/configuration.md', 'Configuration').sort()).toEqual(configKeys().sort());
  });

  it('lists every Redis key as src/shared/keys.ts builds it', () => {
    const rows = redisKeyTable().map((k) => [`\`${k.key}\``, k.type, k.writer, k.what]);
    expect(cells(generated('docs/redis-keys.md', 'redis-keys'))).toEqual([
      ['key', 'type', 'written by', 'what'],
      ...rows,
    ]);
  });

  it('draws the row lifecycle from the transition table', () => {
    expect(generated('docs/architecture.md', 'state-diagram')).toBe(renderStateDiagram());
  });
});

describe('documentation links', () => {
  it.each(markdownFiles)('%s links only to files inside the repository that exist', (file) => {
    const text = read(file);
    const bad: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^(https?:|mailto:|#)/.test(target)) continue;
      const path = resolve(dirname(join(root, file)), target.split('#')[0]!);
      if (!path.startsWith(root + '/') || !existsSync(path)) bad.push(target);
    }
    expect(bad).toEqual([]);
  });

  it('keeps the README short (details live in docs/)', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThanOrEqual(12 * 1024);
  });
});
