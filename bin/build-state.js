// Whether dist/ holds a build of the current src/. bin/provision.js asks before it runs dist/, and
// scripts/build.js before it builds (docs/testing.md#the-compiled-build).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Written by scripts/build.js after a successful build: the time (ms) that build started. */
export const STAMP_FILE = join('dist', '.build-stamp');
/** Files besides src/ whose change calls for a new build. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json'];

/**
 * `{ current: true }`, or `{ current: false, reason }`. A tree without src/ (the Docker image)
 * holds only the build, which is current by definition. Otherwise any file or folder under src/
 * (a folder's time changes when a file is added, renamed or deleted) touched after the last build
 * started makes dist/ stale. About 150 stat calls: a few milliseconds.
 */
export function buildState(root = ROOT) {
  const hasEntry = existsSync(join(root, 'dist', 'cli.js'));
  if (!existsSync(join(root, 'src'))) return hasEntry ? { current: true } : { current: false, reason: 'missing' };
  let builtAt;
  try {
    builtAt = Number(readFileSync(join(root, STAMP_FILE), 'utf8'));
  } catch {
    return { current: false, reason: 'not built' };
  }
  if (!hasEntry || !Number.isFinite(builtAt)) return { current: false, reason: 'not built' };
  const changed =
    INPUTS.find((f) => existsSync(join(root, f)) && statSync(join(root, f)).mtimeMs > builtAt) ??
    changedSince(join(root, 'src'), builtAt);
  return changed === undefined ? { current: true } : { current: false, reason: `older than ${changed}` };
}

/** The first path under `dir` (itself included) modified after `t`, or undefined. */
function changedSince(dir, t) {
  if (statSync(dir).mtimeMs > t) return dir;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const hit = entry.isDirectory() ? changedSince(path, t) : statSync(path).mtimeMs > t ? path : undefined;
    if (hit !== undefined) return hit;
  }
  return undefined;
}
