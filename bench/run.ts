// Runs the benchmarks, each in its own process, and writes bench/results/NAME.json; a full run
// also refreshes the benchmark table in docs/benchmarks.md. `--quick` uses small sizes (under two minutes) and
// writes to bench/results/quick/ without touching it. `--only NAME` (repeatable or
// comma-separated) runs some of them.
// Usage: npm run bench [-- --quick] [-- --only cpu-per-row,calls]
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, release, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchScript, runJsonChild } from './lib/child.ts';
import {
  BENCH_ORDER,
  renderSection,
  renderTable,
  replaceSection,
  type BenchRecord,
  type Machine,
} from './lib/table.ts';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const only = argv.flatMap((a, i) => (argv[i - 1] === '--only' ? a.split(',') : [])).filter(Boolean);
const unknown = only.filter((n) => !(BENCH_ORDER as readonly string[]).includes(n));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${BENCH_ORDER.join(', ')}\n`);
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results', ...(quick ? ['quick'] : []));

function argsFor(name: string): string[] {
  // simulator-load takes positional duration and connections.
  if (name === 'simulator-load') return quick ? ['2', '20'] : ['5', '20'];
  return quick ? ['--quick'] : [];
}

function machine(): Machine {
  const sh = (cmd: string, args: string[]): string => spawnSync(cmd, args, { encoding: 'utf8' }).stdout?.trim() ?? '';
  const free = sh('free', ['-h'])
    .split('\n')
    .find((l) => l.startsWith('Mem:'))
    ?.split(/\s+/)[1];
  const redis = /v=([\d.]+)/.exec(sh('redis-server', ['--version']))?.[1] ?? 'unknown';
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memory: free ?? 'unknown',
    node: process.version,
    redis,
    os: `${type()} ${release()}`,
  };
}

const names = BENCH_ORDER.filter((n) => only.length === 0 || only.includes(n));
await mkdir(RESULTS, { recursive: true });
const m = machine();
const t0 = performance.now();
let failed = 0;
for (const name of names) {
  process.stderr.write(`bench ${name}${quick ? ' (quick)' : ''}\n`);
  const startedAt = new Date().toISOString();
  const t = performance.now();
  try {
    const { result } = await runJsonChild<Record<string, unknown>>(benchScript(`${name}.ts`), argsFor(name));
    const record: BenchRecord & { machine: Machine } = {
      name,
      quick,
      startedAt,
      seconds: Math.round((performance.now() - t) / 100) / 10,
      machine: m,
      result,
    };
    await writeFile(join(RESULTS, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
    process.stderr.write(`bench ${name}: done in ${record.seconds} s\n`);
  } catch (err) {
    failed += 1;
    process.stderr.write(`bench ${name} failed: ${(err as Error).message}\n`);
  }
}

// The table covers every result on disk, so `--only` refreshes one row group and keeps the rest.
const records: BenchRecord[] = [];
for (const f of (await readdir(RESULTS)).filter((f) => f.endsWith('.json')))
  records.push(JSON.parse(await readFile(join(RESULTS, f), 'utf8')) as BenchRecord);
if (quick) {
  process.stdout.write(`${renderTable(records)}\n`);
} else {
  const docPath = join(ROOT, 'docs', 'benchmarks.md');
  await writeFile(docPath, replaceSection(await readFile(docPath, 'utf8'), renderSection(records, m)));
  process.stdout.write(`${renderTable(records)}\n\ndocs/benchmarks.md updated.\n`);
}
process.stderr.write(
  `benchmarks: ${names.length - failed}/${names.length} ran in ${Math.round((performance.now() - t0) / 1000)} s\n`,
);
process.exitCode = failed > 0 ? 1 : 0;
