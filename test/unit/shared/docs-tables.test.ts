import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/shared/errors.ts';
import { configKeys } from '../../../src/shared/config.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

function tableKeys(path: string, heading: string): string[] {
  const section = read(path)
    .split(/^##? /m)
    .find((s) => s.startsWith(heading));
  if (!section) throw new Error(`${path} has no "${heading}" section`);
  return [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? '');
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
