/**
 * Pure rendering of benchmark results into docs/benchmarks.md's Markdown (no I/O: tested in
 * test/unit/bench/table.test.ts).
 */

export interface Machine {
  nproc: number;
  cpu: string;
  memory: string;
  node: string;
  redis: string;
  os: string;
}

/** One results file (bench/results/NAME.json). */
export interface BenchRecord {
  name: string;
  quick: boolean;
  startedAt: string;
  seconds: number;
  result: Record<string, unknown>;
}

export interface TableRow {
  measure: string;
  result: string;
  baseline: string;
  target: string;
  /** undefined when the issue sets no target for it. */
  met: boolean | undefined;
}

export const SECTION_BEGIN = '<!-- bench:begin -->';
export const SECTION_END = '<!-- bench:end -->';

/** A dotted path into a result; undefined when any step is missing. */
export function pick(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Thousands separators, at most `digits` decimals; `?` for a missing value. */
export function fmt(value: unknown, digits = 0): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '?';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** The machine's load average while a benchmark ran (a shared machine: absolute speeds vary with it). */
const load = (r: Record<string, unknown>): string =>
  typeof pick(r, 'loadAverage.start') === 'number'
    ? `; load average ${fmt(pick(r, 'loadAverage.start'), 1)} → ${fmt(pick(r, 'loadAverage.end'), 1)}`
    : '';
const pct = (v: unknown): string => (typeof v === 'number' ? `${fmt(v * 100, 2)} %` : '?');
const num = (r: Record<string, unknown>, path: string): number => Number(pick(r, path));

type RowBuilder = (r: Record<string, unknown>) => TableRow[];

/** redis-memory: the MB of Redis that do not grow with the rows (see bench/redis-memory.ts). */
const fixedMb = (r: Record<string, unknown>): number =>
  ['queuesRetained', 'luaScripts', 'commandStats'].reduce((a, k) => a + num(r, `bytes.fixed.${k}`), 0) / 1e6;

const BUILDERS: Record<string, RowBuilder> = {
  'cpu-per-row': (r) => {
    const role = (name: string): string => `${name} ${fmt(pick(r, `pipeline.roles.${name}.msPerRow`), 3)}`;
    const workers = ['identity', 'extension', 'status'];
    const writes = workers.every((name) => typeof pick(r, `pipeline.roles.${name}.writesPerRow`) === 'number')
      ? `; socket writes per row: ${workers.map((name) => `${name} ${fmt(pick(r, `pipeline.roles.${name}.writesPerRow`), 2)}`).join(', ')}`
      : '';
    return [
      {
        measure: `CPU per row, every pipeline process (ingest, identity, extension, status), ${fmt(r.rows)}-row drop, no latency, no limits`,
        result: `${fmt(pick(r, 'pipeline.msPerRow'), 3)} core-ms (${['ingest', ...workers].map(role).join('; ')}); ${fmt(pick(r, 'pipeline.rowsPerSecond'))} rows/s${writes}${load(r)}`,
        baseline: `raw BullMQ no-op job (producer + worker): ${fmt(pick(r, 'baseline.msPerJob'), 3)} core-ms`,
        target: '≤ 0.5 core-ms',
        met: num(r, 'pipeline.msPerRow') <= 0.5,
      },
      {
        measure: 'CPU per row ÷ CPU per no-op job',
        result: `${fmt(r.ofNoopJob, 2)} ×`,
        baseline: 'the no-op job (above)',
        target: '≤ 4 ×',
        met: num(r, 'ofNoopJob') <= 4,
      },
    ];
  },
  'rate-limit': (r) => [
    {
      measure: `Identity calls/s under a limit of R = ${fmt(r.R)}/s (50 ± 20 ms), ${fmt(r.rows)} rows`,
      result: `${fmt(pick(r, 'identity.callsPerSecond'), 1)}/s = ${fmt(pick(r, 'identity.ofR'), 3)} × R`,
      baseline: `R = ${fmt(r.R)}/s`,
      target: '≥ 0.95 × R',
      met: num(r, 'identity.ofR') >= 0.95,
    },
    {
      measure: 'Share of Identity calls answered 429',
      result: `${pct(pick(r, 'identity.share429'))} (${fmt(pick(r, 'identity.throttled429'))} of ${fmt(pick(r, 'identity.calls'))})`,
      baseline: '—',
      target: '≤ 1 %',
      met: num(r, 'identity.share429') <= 0.01,
    },
    {
      measure: 'Drop wall time ÷ ideal (calls ÷ R)',
      result: `${fmt(r.dropWallOfIdeal, 2)} × (${fmt(r.seconds, 1)} s; identity stage ${fmt(r.identityWallOfIdeal, 2)} ×)`,
      baseline: `ideal ${fmt(r.idealSeconds, 1)} s`,
      target: '≤ 1.1 ×',
      met: num(r, 'dropWallOfIdeal') <= 1.1,
    },
  ],
  'adaptive-rate': (r) => {
    const runs = (Array.isArray(r.runs) ? r.runs : []) as Record<string, unknown>[];
    const each = (f: (x: Record<string, unknown>) => string): string =>
      `${runs.map(f).join(' / ')} (${runs.map((x) => fmt(x.processes)).join(' / ')} identity process${runs.length === 1 && runs[0]?.processes === 1 ? '' : 'es'})`;
    const all = (ok: (x: Record<string, unknown>) => boolean): boolean => runs.length > 0 && runs.every(ok);
    const n = (x: Record<string, unknown>, path: string): number => Number(pick(x, path));
    const nullable = (v: unknown, unit: string): string => (typeof v === 'number' ? `${fmt(v, 1)} ${unit}` : 'never');
    return [
      {
        measure: `Adaptive rate, hidden limit ${fmt(pick(r, 'limit.before'))}/s: time to 0.9 × it from the first call`,
        result: each((x) => nullable(x.reachS, 's')),
        baseline: '—',
        target: '≤ 120 s',
        met: all((x) => typeof x.reachS === 'number' && x.reachS <= 120),
      },
      {
        measure: 'Adaptive rate: accepted calls/s from 120 s until the limit changes (lowest 10 s)',
        result: each((x) => `${fmt(n(x, 'hold.ofLimit'), 2)} × (${fmt(n(x, 'hold.lowest10sOfLimit'), 2)} ×)`),
        baseline: `pinned at ${fmt(pick(r, 'limit.before'))}/s: ${fmt(pick(r, 'baseline.ofLimit'), 2)} ×`,
        target: '≥ 0.9 × the limit',
        met: all((x) => n(x, 'hold.ofLimit') >= 0.9),
      },
      {
        measure: 'Adaptive rate: share of Identity calls answered 429 after 120 s',
        result: each((x) => pct(x.share429After120s)),
        baseline: `pinned at ${fmt(pick(r, 'limit.before'))}/s once the limit halves: ${pct(pick(r, 'baseline.afterHalvingShare429'))}`,
        target: '≤ 1 %',
        met: all((x) => n(x, 'share429After120s') <= 0.01),
      },
      {
        measure: `Adaptive rate: limit halved to ${fmt(pick(r, 'limit.after'))}/s at ${fmt(pick(r, 'limit.changeAtS'))} s: rate under it`,
        result: each((x) => nullable(pick(x, 'halved.rateUnderS'), 's')),
        baseline: '—',
        target: '≤ 10 s',
        met: all((x) => typeof pick(x, 'halved.rateUnderS') === 'number' && n(x, 'halved.rateUnderS') <= 10),
      },
      {
        measure: 'Adaptive rate: back at 0.85 × the new limit (then accepted, from 60 s after the change)',
        result: each((x) => `${nullable(pick(x, 'halved.reach085S'), 's')} (${fmt(n(x, 'halved.afterOfLimit'), 2)} ×)`),
        baseline: '—',
        target: '≤ 60 s',
        met: all((x) => typeof pick(x, 'halved.reach085S') === 'number' && n(x, 'halved.reach085S') <= 60),
      },
    ];
  },
  calls: (r) => [
    {
      measure: 'Identity calls per new user',
      result: fmt(r.identityPerNewUser, 3),
      baseline: '—',
      target: '≤ 1.05',
      met: num(r, 'identityPerNewUser') <= 1.05,
    },
    {
      measure: 'Identity calls per changed user',
      result: fmt(r.identityPerChangedUser, 3),
      baseline: '—',
      target: '≤ 1.1',
      met: num(r, 'identityPerChangedUser') <= 1.1,
    },
    {
      measure: 'Identity writes for unchanged users',
      result: fmt(r.identityWritesForUnchanged),
      baseline: '—',
      target: '0',
      met: num(r, 'identityWritesForUnchanged') === 0,
    },
    {
      measure: 'Identity calls per user, org tree (managers later in the file)',
      result: fmt(r.identityPerOrgTreeUser, 3),
      baseline: '—',
      target: '—',
      met: undefined,
    },
    {
      measure: 'UPS Bulk calls per row',
      result: fmt(r.bulkPerRow, 4),
      baseline: '—',
      target: '≤ 0.011',
      met: num(r, 'bulkPerRow') <= 0.011,
    },
    {
      measure: 'Status calls per provision, polling',
      result: fmt(r.statusPerProvisionPolling, 2),
      baseline: '—',
      target: '—',
      met: undefined,
    },
    {
      measure: 'Status calls per provision, webhooks',
      result: fmt(r.statusPerProvisionWebhook, 2),
      baseline: 'polling (above)',
      target: '≤ 1.5',
      met: num(r, 'statusPerProvisionWebhook') <= 1.5,
    },
  ],
  ingest: (r) => [
    {
      measure: `Ingest of a ${fmt(r.rows)}-row CSV (${fmt(r.fileMb)} MB)`,
      result: `${fmt(pick(r, 'ingest.rowsPerSecond'))} rows/s (${fmt(pick(r, 'ingest.seconds'), 1)} s${Array.isArray(r.rounds) && r.rounds.length > 1 ? ` over ${r.rounds.length} rounds` : ''}) = ${fmt(r.ofAddBulk, 2)} × addBulk${load(r)}`,
      baseline: `addBulk one job/row: ${fmt(pick(r, 'addBulk.rowsPerSecond'))} rows/s; bare csv-parse: ${fmt(pick(r, 'csvParse.rowsPerSecond'))} rows/s`,
      target: '≥ 1.2 × addBulk',
      met: num(r, 'ofAddBulk') >= 1.2,
    },
    {
      measure: 'Ingest peak RSS',
      result: `${fmt(pick(r, 'ingest.peakRssMb'))} MB`,
      baseline: `csv-parse: ${fmt(pick(r, 'csvParse.peakRssMb'))} MB`,
      target: '≤ 256 MB',
      met: num(r, 'ingest.peakRssMb') <= 256,
    },
    ...(r.employeeImport === undefined
      ? []
      : [
          {
            measure: `Ingest of a ${fmt(pick(r, 'employeeImport.lines'))}-line legacy employee import (${fmt(pick(r, 'employeeImport.fileMb'))} MB, ${fmt(pick(r, 'employeeImport.rows'))} rows: one per person); peak RSS`,
            result: `${fmt(pick(r, 'employeeImport.linesPerSecond'))} lines/s (${fmt(pick(r, 'employeeImport.seconds'), 1)} s); ${fmt(pick(r, 'employeeImport.peakRssMb'))} MB`,
            baseline: `the CSV ingest above (rows/s); bare csv-parse of the file: ${fmt(pick(r, 'employeeImport.csvParseLinesPerSecond'))} lines/s`,
            target: 'measured',
            met: undefined,
          },
        ]),
  ],
  'redis-memory': (r) => [
    {
      measure: `Redis bytes per row in flight (${fmt(r.rows)} rows)`,
      result: `${fmt(r.inFlightBytesPerRow)} B (keys alone ${fmt(r.inFlightKeyBytesPerRow)} B; peak while running ${fmt(r.peakBytesPerRow)} B)`,
      baseline: '—',
      target: '≤ 1,024 B',
      met: num(r, 'inFlightBytesPerRow') <= 1024,
    },
    {
      // Judged on what each row keeps: the fixed part (the queues' retained jobs, Redis's own
      // statistics and scripts) is shown beside it, not spread over an arbitrary number of rows.
      measure: 'Redis bytes per row after completion (compacted)',
      result:
        `${fmt(r.afterMarginalBytesPerRow)} B kept per row, plus ${fmt(fixedMb(r), 1)} MB whatever the drop's size ` +
        `(${fmt(num(r, 'bytes.fixed.queuesRetained') / 1e6, 1)} MB of completed jobs and events the queues keep, the rest Redis's own statistics and scripts); ` +
        `all of used_memory ÷ ${fmt(r.rows)} rows: ${fmt(r.afterBytesPerRow)} B (keys alone ${fmt(r.afterKeyBytesPerRow)} B); ` +
        `${fmt(r.afterWithRecentWritesBytesPerRow)} B while the recent-write keys last; ${fmt(r.completedBytesPerRow)} B until the compaction`,
      baseline: '—',
      target: '≤ 300 B',
      met: num(r, 'afterMarginalBytesPerRow') <= 300,
    },
  ],
  scaling: (r) => {
    const runs = (Array.isArray(r.runs) ? r.runs : []) as Record<string, unknown>[];
    return [
      {
        measure: `Identity processes 1 / 2 / 4, ${fmt(r.latencyMs)} ms per call`,
        result: runs.map((x) => `${fmt(x.rowsPerSecond)}`).join(' / ') + ' rows/s',
        baseline: '1 process',
        target: 'near-linear (≥ 3.5 × at 4)',
        met: num(r, 'speedup4') >= 3.5,
      },
    ];
  },
  startup: (r) => [
    {
      measure: 'Process start: `provision --help` to its exit; an identity worker until it listens',
      result: `${fmt(pick(r, 'compiled.helpMs'))} ms; ${fmt(pick(r, 'compiled.workerReadyMs'))} ms (compiled)`,
      baseline: `src/ through tsx: ${fmt(pick(r, 'tsx.helpMs'))} ms; ${fmt(pick(r, 'tsx.workerReadyMs'))} ms`,
      target: 'measured',
      met: undefined,
    },
    {
      measure: 'Idle identity worker, resident memory',
      result: `${fmt(pick(r, 'compiled.workerIdleRssMb'))} MB (compiled)`,
      baseline: `src/ through tsx: ${fmt(pick(r, 'tsx.workerIdleRssMb'))} MB`,
      target: 'measured',
      met: undefined,
    },
  ],
  footprint: (r) => [
    {
      measure: `Peak memory and CPU per role, ${fmt(r.rows)} rows at R = ${fmt(r.R)}/s (one process each, /metrics scraped every second)`,
      result: ['identity', 'extension', 'status', 'server']
        .map(
          (role) =>
            `${role} ${fmt(pick(r, `roles.${role}.peakRssMb`))} MB, ${fmt(pick(r, `roles.${role}.cores`), 2)} cores`,
        )
        .join('; '),
      baseline: '—',
      target: 'measured (Kubernetes requests and limits)',
      met: undefined,
    },
  ],
  'simulator-load': (r) => [
    {
      measure: 'Simulator alone (autocannon, in-process)',
      result: `${fmt(r.createRps)} creates/s, ${fmt(r.searchRps)} searches/s`,
      baseline: '—',
      target: '—',
      met: undefined,
    },
  ],
};

export const BENCH_ORDER = [
  'cpu-per-row',
  'rate-limit',
  'adaptive-rate',
  'calls',
  'ingest',
  'redis-memory',
  'scaling',
  'startup',
  'footprint',
  'simulator-load',
] as const;

export function rowsFor(record: BenchRecord): TableRow[] {
  const build = BUILDERS[record.name];
  return build ? build(record.result) : [];
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const mark = (met: boolean | undefined): string => (met === undefined ? '' : met ? 'yes' : '**no**');

export function renderTable(records: readonly BenchRecord[]): string {
  const sorted = [...records].sort(
    (a, b) => BENCH_ORDER.indexOf(a.name as never) - BENCH_ORDER.indexOf(b.name as never),
  );
  const lines = ['| measure | result | baseline (same run) | target | met |', '| --- | --- | --- | --- | --- |'];
  for (const rec of sorted)
    for (const row of rowsFor(rec))
      lines.push(`| ${[row.measure, row.result, row.baseline, row.target, mark(row.met)].map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export function renderMachine(m: Machine): string {
  return `Machine: ${m.nproc} cores (${m.cpu}), ${m.memory} RAM, ${m.os}, Node ${m.node}, Redis ${m.redis}.`;
}

export function renderSection(records: readonly BenchRecord[], machine: Machine): string {
  const when =
    records
      .map((r) => r.startedAt)
      .sort()
      .at(-1) ?? '';
  return [
    SECTION_BEGIN,
    `${renderMachine(machine)} Run ${when.slice(0, 10)} with \`npm run bench\`; raw figures in \`bench/results/*.json\`.`,
    '',
    renderTable(records),
    SECTION_END,
  ].join('\n');
}

/** Replaces the text between the markers (appends a `## Benchmarks` section when there is none). */
export function replaceSection(readme: string, section: string): string {
  const begin = readme.indexOf(SECTION_BEGIN);
  const end = readme.indexOf(SECTION_END);
  if (begin >= 0 && end > begin) return readme.slice(0, begin) + section + readme.slice(end + SECTION_END.length);
  return `${readme.replace(/\s*$/, '')}\n\n## Benchmarks\n\n${section}\n`;
}
