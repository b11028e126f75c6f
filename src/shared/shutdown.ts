import type { Logger } from './logger.ts';

export interface ShutdownStep {
  name: string;
  close: () => Promise<void> | void;
}

export interface ShutdownOptions {
  deadlineMs: number;
  log?: Logger;
  /** Called when the deadline passes or a second signal arrives. Default: process.exit. */
  forceExit?: (code: number) => void;
}

/**
 * Shutdown registry: steps run in reverse order of registration (workers drain before
 * queues close, queues before Redis, Redis before the log flush). Every step runs even if
 * one throws; `close()` is idempotent; a deadline or a second signal forces the exit.
 */
export class Shutdown {
  private readonly steps: ShutdownStep[] = [];
  private closing: Promise<void> | undefined;
  private signalsSeen = 0;
  private readonly options: ShutdownOptions;

  constructor(options: ShutdownOptions) {
    this.options = options;
  }

  register(name: string, close: ShutdownStep['close']): void {
    this.steps.push({ name, close });
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  close(): Promise<void> {
    this.closing ??= this.runSteps();
    return this.closing;
  }

  private async runSteps(): Promise<void> {
    const failures: string[] = [];
    for (const step of [...this.steps].reverse()) {
      try {
        await step.close();
      } catch (err) {
        failures.push(step.name);
        this.options.log?.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
    if (failures.length > 0) this.options.log?.warn({ failures }, 'shutdown finished with failures');
  }

  /** Installs SIGINT/SIGTERM handlers: first signal closes gracefully, second forces. */
  installSignalHandlers(): void {
    const force = this.options.forceExit ?? ((code: number) => process.exit(code));
    const onSignal = (signal: NodeJS.Signals): void => {
      this.signalsSeen += 1;
      if (this.signalsSeen > 1) {
        this.options.log?.warn({ signal }, 'second signal: forcing exit');
        force(130);
        return;
      }
      this.options.log?.info({ signal, deadlineMs: this.options.deadlineMs }, 'shutting down');
      const timer = setTimeout(() => {
        this.options.log?.error({ deadlineMs: this.options.deadlineMs }, 'shutdown deadline passed: forcing exit');
        force(1);
      }, this.options.deadlineMs);
      timer.unref();
      void this.close().then(() => {
        clearTimeout(timer);
        force(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}
