import { describe, expect, it } from 'vitest';
import {
  fmt,
  pick,
  renderSection,
  renderTable,
  replaceSection,
  rowsFor,
  SECTION_BEGIN,
  SECTION_END,
  type BenchRecord,
} from '../../../bench/lib/table.ts';
import { keyFamily } from '../../../bench/lib/key-usage.ts';
import { diffStats, countCalls, isIdentityRoute } from '../../../bench/lib/sim.ts';
import { summariseProfile } from '../../../bench/lib/cpu-profile.ts';

const record = (name: string, result: Record<string, unknown>): BenchRecord => ({
  name,
  quick: false,
  startedAt: '2026-11-28T05:00:00.000Z',
  seconds: 1,
  result,
});
const machine = { nproc: 2, cpu: 'Test CPU', memory: '23Gi', node: 'v20.20.2', redis: '7.0.15', os: 'Linux 6' };

describe('bench table', () => {
  it('marks a met and a missed target from the figures', () => {
    const cpu = (msPerRow: number, ofNoopJob: number) =>
      rowsFor(
        record('cpu-per-row', {
          rows: 20000,
          pipeline: {
            msPerRow,
            rowsPerSecond: 900,
            roles: {
              ingest: { msPerRow: 0.05 },
              identity: { msPerRow: 0.3 },
              extension: { msPerRow: 0.1 },
              status: { msPerRow: 0.02 },
            },
          },
          baseline: { msPerJob: 0.12 },
          ofNoopJob,
          loadAverage: { start: 3.2, end: 4 },
        }),
      );
    const ok = cpu(0.47, 3.9);
    const missed = cpu(0.9, 7.5);
    expect(ok[0]).toMatchObject({
      result: '0.47 core-ms (ingest 0.05; identity 0.3; extension 0.1; status 0.02); 900 rows/s; load average 3.2 → 4',
      baseline: 'raw BullMQ no-op job (producer + worker): 0.12 core-ms',
      target: '≤ 0.5 core-ms',
      met: true,
    });
    expect(ok[1]).toMatchObject({ result: '3.9 ×', target: '≤ 4 ×', met: true });
    expect(missed.map((r) => r.met)).toEqual([false, false]);
  });

  it('judges the ingest against 1.2 × addBulk and 256 MB', () => {
    const ingest = (ofAddBulk: number, peakRssMb: number) =>
      rowsFor(
        record('ingest', {
          rows: 1000000,
          fileMb: 219,
          ingest: { rowsPerSecond: 6000, seconds: 333.3, peakRssMb },
          addBulk: { rowsPerSecond: 5000 },
          csvParse: { rowsPerSecond: 20000, peakRssMb: 140 },
          ofAddBulk,
          rounds: [{}, {}],
        }),
      );
    const [speed, rss] = ingest(1.2, 256);
    expect(speed).toMatchObject({
      result: '6,000 rows/s (333.3 s over 2 rounds) = 1.2 × addBulk',
      target: '≥ 1.2 × addBulk',
      met: true,
    });
    expect(rss).toMatchObject({ result: '256 MB', met: true });
    expect(ingest(1.19, 257).map((r) => r.met)).toEqual([false, false]);
  });

  it('renders rows in benchmark order, escaping pipes, with "no" in bold', () => {
    const table = renderTable([
      record('simulator-load', { createRps: 2000, searchRps: 2500 }),
      record('calls', {
        identityPerNewUser: 1.04,
        identityPerChangedUser: 1.2,
        identityWritesForUnchanged: 0,
        identityPerOrgTreeUser: 1.6,
        bulkPerRow: 0.01,
        statusPerProvisionPolling: 3,
        statusPerProvisionWebhook: 1,
      }),
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| measure | result | baseline (same run) | target | met |');
    expect(lines[2]).toBe('| Identity calls per new user | 1.04 | — | ≤ 1.05 | yes |');
    expect(lines[3]).toBe('| Identity calls per changed user | 1.2 | — | ≤ 1.1 | **no** |');
    expect(lines.at(-1)).toContain('Simulator alone');
  });

  it('replaces the section between the markers, or appends one', () => {
    const section = renderSection(
      [
        record('scaling', {
          latencyMs: 100,
          runs: [{ rowsPerSecond: 80 }, { rowsPerSecond: 160 }, { rowsPerSecond: 300 }],
          speedup4: 3.75,
        }),
      ],
      machine,
    );
    expect(section).toContain('Machine: 2 cores (Test CPU), 23Gi RAM, Linux 6, Node v20.20.2, Redis 7.0.15.');
    expect(section).toContain('| 80 / 160 / 300 rows/s |');
    const appended = replaceSection('# Title\n\nText\n', section);
    expect(appended).toBe(`# Title\n\nText\n\n## Benchmarks\n\n${section}\n`);
    const again = replaceSection(appended.replace('Text', 'Changed'), `${SECTION_BEGIN}\nnew\n${SECTION_END}`);
    expect(again).toBe(`# Title\n\nChanged\n\n## Benchmarks\n\n${SECTION_BEGIN}\nnew\n${SECTION_END}\n`);
  });

  it('formats numbers and reads dotted paths', () => {
    expect(fmt(1234567.891, 1)).toBe('1,234,567.9');
    expect(fmt(undefined)).toBe('?');
    expect(pick({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(pick({ a: 1 }, 'a.b')).toBeUndefined();
  });
});

describe('bench helpers', () => {
  it('groups keys by family', () => {
    expect(keyFamily('{b}:ledger:drop:0123456789abcdef:out', '{b}')).toBe(':ledger:drop:<id>:out');
    expect(keyFamily('{b}:identity:0123456789abcdef-51', '{b}')).toBe(':identity:<job>');
    expect(keyFamily('{b}:identity:12', '{b}')).toBe(':identity:<n>');
    expect(keyFamily('{b}:identity:events', '{b}')).toBe(':identity:events');
    // A queue's keys under its own tag (queueKeyPrefix) group the same way.
    expect(keyFamily('{b_identity}:identity:events', '{b}')).toBe(':identity:events');
  });

  it('counts only the calls made between two stats snapshots', () => {
    const before = {
      total: 3,
      routes: { 'POST /profile/identity/v4.1/Users': { '201': 2 }, 'POST /profile/v4/Bulk': { '200': 1 } },
    };
    const after = {
      total: 7,
      routes: { 'POST /profile/identity/v4.1/Users': { '201': 4, '429': 1 }, 'POST /profile/v4/Bulk': { '200': 2 } },
    };
    const d = diffStats(before, after);
    expect(d).toEqual({
      total: 4,
      routes: { 'POST /profile/identity/v4.1/Users': { '201': 2, '429': 1 }, 'POST /profile/v4/Bulk': { '200': 1 } },
    });
    expect(countCalls(d, isIdentityRoute)).toBe(3);
    expect(countCalls(d, isIdentityRoute, 429)).toBe(1);
  });

  it('sums a CPU profile self time per function, leaving idle samples out', () => {
    const frame = (functionName: string, url: string, lineNumber: number) => ({ functionName, url, lineNumber });
    const summary = summariseProfile({
      nodes: [
        { id: 1, callFrame: frame('(idle)', '', -1) },
        { id: 2, callFrame: frame('parse', 'file:///app/node_modules/csv-parse/lib/api/index.js', 69) },
        { id: 3, callFrame: frame('addRows', 'file:///app/dist/shared/ledger/ledger.js', 99) },
        { id: 4, callFrame: frame('(garbage collector)', '', -1) },
      ],
      samples: [1, 2, 2, 3, 4, 2],
      timeDeltas: [5000, 1000, 1000, 1000, 1000, 1000],
    });
    expect(summary.busyMs).toBe(5);
    expect(summary.idleMs).toBe(5);
    expect(summary.top[0]).toEqual({ fn: 'parse (csv-parse/lib/api/index.js:70)', ms: 3, share: 0.6 });
    expect(summary.top.map((t) => t.fn)).toContain('addRows (dist/shared/ledger/ledger.js:100)');
    expect(summary.byArea.map((a) => a.fn)).toEqual(['csv-parse', 'dist/shared/ledger', '(native, GC)']);
  });
});
