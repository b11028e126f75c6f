import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isProvError } from './shared/errors.ts';
import { terminalText } from './shared/safe-text.ts';
import { EXIT } from './commands/exit-codes.ts';
import { printError, setJsonOutput, wantsJson } from './commands/output.ts';
import { register as registerSimulator } from './commands/simulator.ts';
import { register as registerWorker } from './commands/worker.ts';
import { register as registerIngest } from './commands/ingest.ts';
import { register as registerStatus } from './commands/status.ts';
import { register as registerReport } from './commands/report.ts';
import { register as registerReplay } from './commands/replay.ts';
import { register as registerSubscribeWebhook } from './commands/subscribe-webhook.ts';
import { register as registerServe } from './commands/serve.ts';
import { register as registerWatch } from './commands/watch.ts';
import { register as registerDemo } from './commands/demo.ts';
import { register as registerApprove } from './commands/approve.ts';
import { register as registerCancel } from './commands/cancel.ts';
import { register as registerPause } from './commands/pause.ts';
import { register as registerPrune } from './commands/prune.ts';
import { register as registerDoctor } from './commands/doctor.ts';

/**
 * The one entry point. Each command module registers itself; heavy modules are imported only
 * when their command runs, so `provision --help` stays fast and nothing connects on import.
 */
export function buildProgram(): Command {
  const program = new Command('provision')
    .description('Batch provisioning pipeline for SAP Concur (Identity v4.1 + UPS v4) on BullMQ and Redis.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of [
    registerIngest,
    registerStatus,
    registerReport,
    registerReplay,
    registerWorker,
    registerSubscribeWebhook,
    registerSimulator,
    registerServe,
    registerWatch,
    registerDemo,
    registerApprove,
    registerCancel,
    registerPause,
    registerPrune,
    registerDoctor,
  ])
    register(program);
  return program;
}

/** The version in package.json (one level above src/ and dist/ alike). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Network errors of a Redis that went away while a command ran (its first answer is checked on open). */
const REDIS_DOWN = /MaxRetriesPerRequestError|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH/;

/**
 * Errors end as one line on stderr (and `{"error":{"code","message"}}` on stdout with `--json`)
 * with a documented exit code (docs/errors.md#exit-codes); only a bug prints a stack trace.
 */
export async function main(argv: string[]): Promise<void> {
  setJsonOutput(wantsJson(argv));
  const program = buildProgram();
  // Commander prints its own message on stderr; with --json, the object on stdout says it too.
  let usage: string | undefined;
  program.configureOutput({
    outputError: (text, write) => {
      usage ??= text.split('\n')[0]?.replace(/^error: /, '');
      write(text);
    },
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other parse problem is bad usage.
      if (err.exitCode === 0) {
        process.exitCode = 0;
        return;
      }
      if (wantsJson(argv)) {
        process.stdout.write(
          `${JSON.stringify({ error: { code: 'PROV_ERR_USAGE', message: usage ?? err.message.replace(/^error: /, '') } })}\n`,
        );
      }
      process.exitCode = EXIT.USAGE;
      return;
    }
    if (isProvError(err, 'PROV_ERR_REDIS_NOT_DURABLE')) {
      // A long-running process refused its Redis: a failed start, as a supervisor expects it.
      printError(err.code, err.message);
      process.exitCode = 1;
      return;
    }
    if (isProvError(err, 'PROV_ERR_CONFIG')) {
      printError(err.code, err.message);
      process.exitCode = EXIT.USAGE;
      return;
    }
    if (isProvError(err)) {
      printError(err.code, err.message);
      process.exitCode = EXIT.ERROR;
      return;
    }
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (REDIS_DOWN.test(text)) {
      printError('PROV_ERR_REDIS', `Redis stopped answering: ${err instanceof Error ? err.message : text}`);
      process.exitCode = EXIT.ERROR;
      return;
    }
    if (wantsJson(argv)) printError('PROV_ERR_INTERNAL', text);
    process.stderr.write(`${terminalText(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exitCode = EXIT.ERROR;
  }
}
