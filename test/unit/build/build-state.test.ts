import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildState, STAMP_FILE } from '../../../bin/build-state.js';

// A checkout in miniature: src/ with a nested folder, a built dist/ and its stamp, with file
// times set explicitly (no sleeping, no dependence on the clock's resolution).
let root: string;
const T = 1_700_000_000_000;
const at = (path: string, ms: number): void => utimesSync(path, ms / 1000, ms / 1000);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'build-state-'));
  mkdirSync(join(root, 'src', 'shared'), { recursive: true });
  mkdirSync(join(root, 'dist'));
  for (const f of ['src/cli.ts', 'src/shared/config.ts', 'dist/cli.js', 'tsconfig.json']) {
    writeFileSync(join(root, f), '');
    at(join(root, f), T - 1000);
  }
  at(join(root, 'src', 'shared'), T - 1000);
  at(join(root, 'src'), T - 1000);
  writeFileSync(join(root, STAMP_FILE), String(T));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('buildState', () => {
  it('is current when nothing changed since the build started', () => {
    expect(buildState(root)).toEqual({ current: true });
  });

  it('is stale when a source file changed after the build started, naming it', () => {
    at(join(root, 'src', 'shared', 'config.ts'), T + 1);
    expect(buildState(root)).toEqual({
      current: false,
      reason: `older than ${join(root, 'src', 'shared', 'config.ts')}`,
    });
  });

  it('is stale when a file was deleted or added (its folder changed)', () => {
    rmSync(join(root, 'src', 'shared', 'config.ts'));
    at(join(root, 'src', 'shared'), T + 1);
    expect(buildState(root).current).toBe(false);
  });

  it('is stale when the compiler settings changed', () => {
    at(join(root, 'tsconfig.json'), T + 1);
    expect(buildState(root)).toMatchObject({ current: false, reason: expect.stringContaining('tsconfig.json') });
  });

  it('is not built without a stamp (a first build, or one that failed) or without the entry point', () => {
    rmSync(join(root, STAMP_FILE));
    expect(buildState(root)).toEqual({ current: false, reason: 'not built' });
    writeFileSync(join(root, STAMP_FILE), String(T));
    rmSync(join(root, 'dist', 'cli.js'));
    expect(buildState(root)).toEqual({ current: false, reason: 'not built' });
  });

  it('trusts dist/ where there is no src/ (the Docker image), unless dist/ is missing', () => {
    rmSync(join(root, 'src'), { recursive: true });
    rmSync(join(root, STAMP_FILE));
    expect(buildState(root)).toEqual({ current: true });
    rmSync(join(root, 'dist'), { recursive: true });
    expect(buildState(root)).toEqual({ current: false, reason: 'missing' });
  });
});
