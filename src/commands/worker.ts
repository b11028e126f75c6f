import { Argument, type Command } from 'commander';

/** Worker roles and the module that runs each (imported only when run). */
const WORKERS = {
  identity: async (concurrency?: number) =>
    (await import('../workers/identity/main.ts')).runIdentityWorker(concurrency === undefined ? {} : { concurrency }),
  extension: async (concurrency?: number) =>
    (await import('../workers/extension/main.ts')).runExtensionWorker(concurrency === undefined ? {} : { concurrency }),
  status: async (concurrency?: number) =>
    (await import('../workers/status/main.ts')).runStatusWorker(concurrency === undefined ? {} : { concurrency }),
} as const;

export type WorkerRole = keyof typeof WORKERS;

/** `provision worker <identity|extension|status> [--concurrency N]`. */
export function register(program: Command): void {
  program
    .command('worker')
    .description('Run a pipeline worker process (scale by starting more).')
    .addArgument(new Argument('<role>', 'which stage').choices(Object.keys(WORKERS)))
    .option('--concurrency <n>', 'jobs at a time in this process (default from the env)')
    .action(async (role: WorkerRole, opts: { concurrency?: string }) => {
      const n = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
      await WORKERS[role](Number.isInteger(n) && n! > 0 ? n : undefined);
    });
}
