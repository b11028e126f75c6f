import { Command, CommanderError } from 'commander';
import { isProvError } from './shared/errors.ts';
import { terminalText } from './shared/safe-text.ts';
import { EXIT } from './commands/exit-codes.ts';
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

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; every other parse problem is bad usage.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.USAGE;
      return;
    }
    if (isProvError(err, 'PROV_ERR_REDIS_NOT_DURABLE')) {
      // A long-running process refused its Redis: a failed start, as a supervisor expects it.
      process.stderr.write(`${terminalText(err.message)}\n`);
      process.exitCode = 1;
      return;
    }
    if (isProvError(err, 'PROV_ERR_CONFIG')) {
      process.stderr.write(`${terminalText(err.message)}\n`);
      process.exitCode = EXIT.USAGE;
      return;
    }
    process.stderr.write(`${terminalText(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exitCode = EXIT.ERROR;
  }
}
