// `npm run build`, and `prepare` (so `npm ci` builds): compiles src/ into dist/ with tsc
// (incremental), copies every other file under src/ (the drop page's assets), removes outputs whose
// source is gone, and stamps dist/ with the time the build started (bin/build-state.js reads it).
// `--if-stale` does nothing when dist/ is current: test runs call it that way before they start.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { buildState, ROOT, STAMP_FILE } from '../bin/build-state.js';

const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const BUILD_INFO = join(DIST, '.tsbuildinfo');

if (process.argv.includes('--if-stale') && buildState().current) process.exit(0);

const startedAt = Date.now();
// A dist/ never stamped (a first build, or one cut short) gets a full compile: tsc's incremental
// state alone would not notice outputs that are missing.
if (!existsSync(join(ROOT, STAMP_FILE))) rmSync(BUILD_INFO, { force: true });
rmSync(join(ROOT, STAMP_FILE), { force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) {
  process.stderr.write('build: tsc failed; dist/ is left unstamped (bin/provision.js will not run it)\n');
  process.exit(result.status ?? 1);
}

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

for (const file of files(SRC).filter((f) => !f.endsWith('.ts'))) {
  const out = join(DIST, relative(SRC, file));
  mkdirSync(dirname(out), { recursive: true });
  copyFileSync(file, out);
}

/** The source a dist/ file came from: x.js and x.js.map from x.ts, an asset from itself. */
const sourceOf = (out) => join(SRC, relative(DIST, out).replace(/\.js(\.map)?$/, '.ts'));
for (const out of files(DIST)) {
  if (out === BUILD_INFO) continue;
  const rel = relative(DIST, out);
  if (!existsSync(sourceOf(out)) && !existsSync(join(SRC, rel))) rmSync(out);
}

writeFileSync(join(ROOT, STAMP_FILE), String(startedAt));
