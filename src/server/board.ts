import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const BOARD_PATH = '/admin/queues';

/** Bull Board over every pipeline queue at /admin/queues (behind the server's auth hook). */
export async function registerBoard(
  app: FastifyInstance,
  queues: readonly Queue[],
  options: { readOnly: boolean },
): Promise<void> {
  const adapter = new FastifyAdapter();
  adapter.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map(
      (q) => new BullMQAdapter(q, { readOnlyMode: options.readOnly, allowRetries: !options.readOnly }),
    ),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'Concur provisioning' } },
  });
  await app.register(adapter.registerPlugin(), { prefix: BOARD_PATH });
}
