import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) that a self-time summary needs. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** `name (file:line)`; file relative to the repository or `pkg/...` for a dependency. */
  fn: string;
  ms: number;
  /** Of the busy time: idle samples (the event loop waiting) are left out. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  top: SelfTime[];
  /** Self time by package or source directory, the same way. */
  byArea: SelfTime[];
}

function shortFile(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const m = /\/(dist|src|bench)\/.*$/.exec(url);
  return m ? m[0].slice(1) : url;
}

function area(url: string): string {
  if (url === '') return '(native, GC)';
  if (url.startsWith('node:')) return 'node internals';
  const file = shortFile(url);
  if (url.includes('node_modules/')) {
    const parts = file.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return file.split('/').slice(0, -1).join('/');
}

function ranked(totals: Map<string, number>, busy: number, n: number): SelfTime[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), share: Math.round((us / busy) * 1000) / 1000 }));
}

/** Self time per function (a function's own samples, not its callees'), highest first. */
export function summariseProfile(profile: CpuProfile, n = 10): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') {
      idle += us;
      return;
    }
    busy += us;
    const where = frame.url === '' ? '' : ` (${shortFile(frame.url)}:${frame.lineNumber + 1})`;
    const key = `${frame.functionName || '(anonymous)'}${where}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = area(frame.url);
    areas.set(a, (areas.get(a) ?? 0) + us);
  });
  return {
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    top: ranked(fns, busy, n),
    byArea: ranked(areas, busy, 6),
  };
}

/** Summaries of every `.cpuprofile` in a directory (node --cpu-prof-dir), by file name. */
export async function summariseProfiles(dir: string, n = 10): Promise<Record<string, ProfileSummary>> {
  const out: Record<string, ProfileSummary> = {};
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.cpuprofile')).sort())
    out[f] = summariseProfile(JSON.parse(await readFile(join(dir, f), 'utf8')) as CpuProfile, n);
  return out;
}
