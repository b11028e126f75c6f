// Ingest: rows/s and peak RSS for a generated CSV (parse, map, validate, ledger, enqueue), beside
// a bare csv-parse read of the same file and a raw BullMQ addBulk of one no-op job per row; then a
// legacy employee import of as many lines (two passes, one row per person). Each runs in its own
// process on a private Redis (flushed between runs). The ingest and its addBulk baseline run in
// alternating rounds (ingest, addBulk, addBulk, ingest...), so a machine whose load drifts during
// the run weighs on both sides alike; rows/s are over all rounds.
// Usage: npx tsx bench/ingest.ts [--quick] [--rows N] [--rounds N]   (prints one JSON line)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emit, loadAverage, note, parseBenchArgs, round } from './lib/args.ts';
import { benchScript, runJsonChild } from './lib/child.ts';
import { ensureBuilt } from './lib/build.ts';
import { writeLargeCsv, writeLargeEmployeeImport } from './lib/drops.ts';
import { startBenchRedis } from './lib/redis-server.ts';

interface ChildResult {
  mode: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  cpuMs: number;
  maxRssBytes: number;
}

const args = parseBenchArgs(process.argv.slice(2));
// Quick: 40,000 rows (100,000 alone takes ~45 s here, over the quick run's two-minute budget).
const rows = args.rows ?? (args.quick ? 40_000 : 1_000_000);
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(process.argv[roundsArg + 1]) : args.quick ? 1 : 2;
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error('--rounds needs a positive integer');
const MB = 1024 * 1024;
const child = benchScript('children/ingest-child.js');

ensureBuilt();
const redis = await startBenchRedis();
const dir = await mkdtemp(join(tmpdir(), 'provision-bench-ingest-'));
try {
  const file = join(dir, `people-${rows}.csv`);
  note(`ingest: writing a ${rows}-row CSV`);
  const bytes = await writeLargeCsv(file, rows);
  const run = async (
    mode: string,
    extra: string[],
  ): Promise<ChildResult & { sampledPeakRssBytes: number | undefined; usedMemoryBytes: number }> => {
    await redis.client.flushall();
    const base = await redis.usedMemory();
    note(`ingest: ${mode}`);
    const r = await runJsonChild<ChildResult>(child, [mode, ...extra]);
    const used = (await redis.usedMemory()) - base;
    return { ...r.result, sampledPeakRssBytes: r.sampledPeakRssBytes, usedMemoryBytes: used };
  };
  const loadAtStart = await loadAverage();
  const csv = await run('csv-parse', [file]);
  type Run = Awaited<ReturnType<typeof run>>;
  const ingests: Run[] = [];
  const addBulks: Run[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const sides = [
      async () => ingests.push(await run('ingest', [file, redis.url, `{bench-ingest-${i}}`])),
      async () => addBulks.push(await run('addbulk', [String(rows), redis.url, `{bench-addbulk-${i}}`])),
    ];
    for (const side of i % 2 === 0 ? sides : sides.reverse()) await side();
  }
  // Over every round: total rows over total time; the highest peak RSS of any.
  const overall = (runs: Run[]): Run => {
    const seconds = runs.reduce((a, r) => a + r.seconds, 0);
    return {
      ...runs[0]!,
      seconds: round(seconds, 2),
      rowsPerSecond: round((runs[0]!.rows * runs.length) / seconds),
      maxRssBytes: Math.max(...runs.map((r) => r.maxRssBytes)),
      usedMemoryBytes: Math.max(...runs.map((r) => r.usedMemoryBytes)),
    };
  };
  const ingest = overall(ingests);
  const addBulk = overall(addBulks);
  const eiFile = join(dir, 'employee_p0000bench_20240101000000.txt');
  note(`ingest: writing a ${rows}-line employee import`);
  const ei = await writeLargeEmployeeImport(eiFile, rows);
  const eiRun = await run('ingest', [eiFile, redis.url, '{bench-ei}']);
  const eiParse = await run('csv-parse-lines', [eiFile]);
  await redis.client.flushall();
  const peakMb = round(ingest.maxRssBytes / MB, 1);
  const result = {
    bench: 'ingest',
    rows,
    fileMb: round(bytes / MB, 1),
    ingest: {
      rowsPerSecond: ingest.rowsPerSecond,
      seconds: ingest.seconds,
      peakRssMb: peakMb,
      sampledPeakRssMb: ingest.sampledPeakRssBytes === undefined ? null : round(ingest.sampledPeakRssBytes / MB, 1),
      redisMb: round(ingest.usedMemoryBytes / MB, 1),
    },
    csvParse: { rowsPerSecond: csv.rowsPerSecond, seconds: csv.seconds, peakRssMb: round(csv.maxRssBytes / MB, 1) },
    addBulk: {
      rowsPerSecond: addBulk.rowsPerSecond,
      seconds: addBulk.seconds,
      peakRssMb: round(addBulk.maxRssBytes / MB, 1),
      redisMb: round(addBulk.usedMemoryBytes / MB, 1),
    },
    employeeImport: {
      lines: ei.lines,
      fileMb: round(ei.bytes / MB, 1),
      rows: eiRun.rows,
      linesPerSecond: Math.round(ei.lines / eiRun.seconds),
      rowsPerSecond: eiRun.rowsPerSecond,
      seconds: eiRun.seconds,
      peakRssMb: round(eiRun.maxRssBytes / MB, 1),
      redisMb: round(eiRun.usedMemoryBytes / MB, 1),
      csvParseLinesPerSecond: eiParse.rowsPerSecond,
      ofCsvIngestLines: round(ei.lines / eiRun.seconds / ingest.rowsPerSecond, 3),
    },
    ofCsvParse: round(ingest.rowsPerSecond / csv.rowsPerSecond, 3),
    ofAddBulk: round(ingest.rowsPerSecond / addBulk.rowsPerSecond, 3),
    rounds: ingests.map((r, i) => ({
      ingestSeconds: r.seconds,
      addBulkSeconds: addBulks[i]!.seconds,
      ofAddBulk: round(addBulks[i]!.seconds / r.seconds, 3),
      ingestPeakRssMb: round(r.maxRssBytes / MB, 1),
      ingestCpuMs: r.cpuMs,
      addBulkCpuMs: addBulks[i]!.cpuMs,
    })),
    target: {
      peakRssMbAtMost: 256,
      ofAddBulkAtLeast: 1.2,
      met: peakMb <= 256 && ingest.rowsPerSecond >= 1.2 * addBulk.rowsPerSecond,
    },
    settings: {
      drop: 'demo generator in blocks of 10,000 (2.5% bad rows); employee import: the demo file generator in blocks of 10,000 people, as many lines as CSV rows',
      note: 'each side in its own process; ingest runs the compiled build (dist/), as bin/provision.js does',
    },
    loadAverage: { start: loadAtStart, end: await loadAverage() },
    redis: redis.version,
  };
  note(
    `ingest: ${result.ingest.rowsPerSecond} rows/s, peak RSS ${peakMb} MB; csv-parse ${csv.rowsPerSecond} rows/s; addBulk ${addBulk.rowsPerSecond} rows/s; employee import ${result.employeeImport.linesPerSecond} lines/s (${eiRun.rows} rows), peak RSS ${result.employeeImport.peakRssMb} MB`,
  );
  emit(result);
} finally {
  await rm(dir, { recursive: true, force: true });
  await redis.stop();
}
