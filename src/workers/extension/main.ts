import { connectConcur, createRuntime, ensureDurableRedis, rateLimiter } from '../../shared/runtime.ts';
import { startStage } from '../stage.ts';
import { extensionStage } from './stage.ts';

export interface ExtensionWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker extension`: Bulk PATCHes of Spend/Travel extensions, limited by UPS_MAX_RPS. */
export async function runExtensionWorker(options: ExtensionWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('extension-worker', 'worker', options.env);
  await ensureDurableRedis(rt);
  // Shared with the status workers (both call UPS). The processor acquires it itself (once per
  // Bulk), so the client gets no UPS gate; the limiter still sees every call.
  const limiter = rateLimiter(rt, 'ups');
  const concur = connectConcur(rt, { limiters: [limiter] });
  await startStage(
    rt,
    extensionStage({
      ...rt,
      ups: concur.ups,
      limiter,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    }),
  );
  rt.shutdown.installSignalHandlers();
}
