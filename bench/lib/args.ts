/** The flags every bench script takes: `--quick` (smaller sizes) and `--rows N` (override). */
export interface BenchArgs {
  quick: boolean;
  rows: number | undefined;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const i = argv.indexOf('--rows');
  const rows = i >= 0 ? Number(argv[i + 1]) : undefined;
  if (rows !== undefined && !(Number.isInteger(rows) && rows > 0)) throw new Error('--rows needs a positive integer');
  return { quick: argv.includes('--quick'), rows };
}

/** Prints the script's result: one JSON line on stdout (progress goes to stderr). */
export function emit(result: unknown): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function note(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

export const round = (n: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export const seconds = (startMs: number, endMs = performance.now()): number => (endMs - startMs) / 1000;

/**
 * The 1-minute load average (`uptime`), rounded: recorded beside figures taken on a shared
 * machine, where absolute speeds say little without it.
 */
export async function loadAverage(): Promise<number> {
  const { loadavg } = await import('node:os');
  return round(loadavg()[0] ?? 0, 1);
}
