import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Brings dist/ up to date with src/ (nothing to do when it is): the benchmarks measure the
 * compiled build, as bin/provision.js runs it, never a stale one or src/ through tsx.
 */
export function ensureBuilt(): void {
  const script = fileURLToPath(new URL('../../scripts/build.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--if-stale'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${String(r.status)})`);
}
