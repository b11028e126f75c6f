import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../../src/shared/errors.ts';
import { configKeys } from '../../../src/shared/config.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

function tableKeys(heading: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`README has no "## ${heading}" section`);
  return [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe('README tables', () => {
  it('lists exactly the error codes the code defines', () => {
    expect(tableKeys('Error codes').sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('lists exactly the configuration keys of the env schema', () => {
    expect(tableKeys('Configuration').sort()).toEqual(configKeys().sort());
  });
});
