import { connectConcur, createRuntime, ensureDurableRedis, rateLimiter } from '../../shared/runtime.ts';
import { startStage } from '../stage.ts';
import { identityStage } from './stage.ts';

export interface IdentityWorkerOptions {
  concurrency?: number;
  env?: Record<string, string | undefined>;
}

/** `provision worker identity`: the identity stage, limited by the shared IDENTITY_MAX_RPS (auto: found). */
export async function runIdentityWorker(options: IdentityWorkerOptions = {}): Promise<void> {
  const rt = createRuntime('identity-worker', 'worker', options.env);
  await ensureDurableRedis(rt);
  const limiter = rateLimiter(rt, 'identity');
  const concur = connectConcur(rt, { gates: { identity: limiter }, limiters: [limiter] });
  await startStage(
    rt,
    identityStage({
      ...rt,
      identity: concur.identity,
      block: (ms) => limiter.block(ms),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    }),
  );
  rt.shutdown.installSignalHandlers();
}
