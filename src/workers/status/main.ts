import { connectConcur, createRuntime, ensureDurableRedis, rateLimiter } from '../../shared/runtime.ts';
import { startStage } from '../stage.ts';
import { statusStage } from './stage.ts';

export interface StatusWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker status`: follows every provision id until Concur says how each row ended. */
export async function runStatusWorker(options: StatusWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('status-worker', 'worker', options.env);
  await ensureDurableRedis(rt);
  const limiter = rateLimiter(rt, 'ups');
  const concur = connectConcur(rt, { limiters: [limiter] });
  await startStage(
    rt,
    statusStage({
      ...rt,
      status: concur.status,
      limiter,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    }),
  );
  rt.shutdown.installSignalHandlers();
}
