import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Tests start real processes through bin/provision.js, which runs dist/: bring dist/ up to date
 * with src/ first (incremental; nothing to do when it is current), so no test runs stale code.
 */
export function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--if-stale'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${String(r.status)}): fix the compile errors above`);
}
