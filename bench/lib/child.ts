import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** Path of a script in bench/. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`../${name}`, import.meta.url));
}

/** tsx's loader by absolute URL, so children start from any working directory. */
const TSX = import.meta.resolve('tsx');

/**
 * A bench child: a `.ts` script through tsx (the benchmark drivers), a `.js` one on plain Node
 * (children that measure the compiled build, dist/, as bin/provision.js runs it).
 */
export function spawnChild(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const loader = script.endsWith('.ts') ? ['--import', TSX] : [];
  return spawn(process.execPath, [...loader, script, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Peak resident set (VmHWM) of a live process, in bytes; undefined off Linux or once it exited. */
export async function peakRss(pid: number): Promise<number | undefined> {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ChildRun<T> {
  result: T;
  /** Highest VmHWM seen while sampling (the child also reports its own maxRSS). */
  sampledPeakRssBytes: number | undefined;
}

/** Runs a bench child to its end and parses the last JSON line it printed, sampling its peak RSS. */
export async function runJsonChild<T>(script: string, args: string[], env?: NodeJS.ProcessEnv): Promise<ChildRun<T>> {
  const child = spawnChild(script, args, env);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  let peak: number | undefined;
  const timer = setInterval(() => {
    if (child.pid === undefined) return;
    void peakRss(child.pid).then((v) => {
      if (v !== undefined) peak = Math.max(peak ?? 0, v);
    });
  }, 100);
  const code = await new Promise<number | null>((resolve) =>
    child.once('exit', (c, s) => resolve(c ?? (s ? 128 : null))),
  );
  clearInterval(timer);
  if (code !== 0) throw new Error(`${script} exited ${String(code)}`);
  return { result: lastJsonLine<T>(out, script), sampledPeakRssBytes: peak };
}

export function lastJsonLine<T>(text: string, what: string): T {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.trim().startsWith('{'));
  const last = lines.at(-1);
  if (!last) throw new Error(`${what} printed no JSON`);
  return JSON.parse(last) as T;
}
