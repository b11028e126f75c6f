// Process start and idle memory: the CLI compiled (bin/provision.js → dist/) beside the same CLI
// run from src/ through tsx (how every process ran before the compiled build), alternated in the
// same run. Measures `provision --help` to its exit, and an identity worker from spawn until it
// listens on its queue, then its resident memory once idle.
// Usage: npx tsx bench/startup.ts [--quick]   (prints one JSON line)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, note, parseBenchArgs, round } from './lib/args.ts';
import { benchScript } from './lib/child.ts';
import { procFigures } from './lib/proc.ts';
import { ensureBuilt } from './lib/build.ts';
import { startBenchRedis } from './lib/redis-server.ts';

const args = parseBenchArgs(process.argv.slice(2));
const helpRuns = args.quick ? 3 : 7;
const workerRuns = args.quick ? 2 : 4;
const idleMs = args.quick ? 3_000 : 5_000;
const TSX = import.meta.resolve('tsx');
const BIN = fileURLToPath(new URL('../bin/provision.js', import.meta.url));

type Mode = 'compiled' | 'tsx';
const argvOf = (mode: Mode, cli: string[]): string[] =>
  mode === 'compiled' ? [BIN, ...cli] : ['--import', TSX, benchScript('children/cli-from-source.ts'), ...cli];

async function helpOnce(mode: Mode): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, argvOf(mode, ['--help']), { stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${mode} --help exited ${String(code)}`);
  return performance.now() - t0;
}

async function workerOnce(mode: Mode, redisUrl: string, run: number) {
  const env = { ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: `{bench-start-${mode}-${run}}`, LOG_LEVEL: 'info' };
  const t0 = performance.now();
  const child = spawn(process.execPath, argvOf(mode, ['worker', 'identity']), {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"worker started"')) resolve(performance.now() - t0);
      });
      child.once('exit', (code) => reject(new Error(`${mode} worker exited ${String(code)} before it started`)));
    });
    const atReady = await procFigures(child.pid!);
    await new Promise((r) => setTimeout(r, idleMs));
    const idle = await procFigures(child.pid!);
    return { readyMs, startCpuMs: atReady.cpuMs, idleRssMb: idle.rssMb, peakRssMb: idle.peakRssMb };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const modes: Mode[] = ['compiled', 'tsx'];
const help: Record<Mode, number[]> = { compiled: [], tsx: [] };
const workers: Record<Mode, Awaited<ReturnType<typeof workerOnce>>[]> = { compiled: [], tsx: [] };
ensureBuilt();
const redis = await startBenchRedis();
try {
  // Alternated, so load from other tenants of the machine falls on both alike.
  for (let i = 0; i < helpRuns; i += 1) for (const m of modes) help[m].push(await helpOnce(m));
  for (let i = 0; i < workerRuns; i += 1)
    for (const m of modes) {
      note(`startup: ${m} worker, run ${i + 1}`);
      workers[m].push(await workerOnce(m, redis.url, i));
    }
} finally {
  await redis.stop();
}

const summary = (m: Mode) => ({
  helpMs: round(median(help[m])),
  workerReadyMs: round(median(workers[m].map((w) => w.readyMs))),
  workerStartCpuMs: round(median(workers[m].map((w) => w.startCpuMs))),
  workerIdleRssMb: round(median(workers[m].map((w) => w.idleRssMb)), 1),
  workerPeakRssMb: round(median(workers[m].map((w) => w.peakRssMb)), 1),
});
const compiled = summary('compiled');
const tsx = summary('tsx');
note(
  `startup: --help ${compiled.helpMs} ms (tsx ${tsx.helpMs}); worker ready ${compiled.workerReadyMs} ms (tsx ${tsx.workerReadyMs}); idle RSS ${compiled.workerIdleRssMb} MB (tsx ${tsx.workerIdleRssMb})`,
);
emit({
  bench: 'startup',
  compiled,
  tsx,
  ratios: {
    help: round(compiled.helpMs / tsx.helpMs, 3),
    workerReady: round(compiled.workerReadyMs / tsx.workerReadyMs, 3),
    workerIdleRss: round(compiled.workerIdleRssMb / tsx.workerIdleRssMb, 3),
  },
  samples: { help, workers },
  settings: { helpRuns, workerRuns, idleMs, worker: 'provision worker identity, default settings' },
  redis: redis.version,
});
