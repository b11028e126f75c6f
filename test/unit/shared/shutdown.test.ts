import { describe, expect, it } from 'vitest';
import { Shutdown } from '../../../src/shared/shutdown.ts';

describe('Shutdown', () => {
  it('runs steps in reverse order, all of them even if one throws, once', async () => {
    const order: string[] = [];
    const shutdown = new Shutdown({ deadlineMs: 1000 });
    shutdown.register('redis', () => {
      order.push('redis');
    });
    shutdown.register('queues', () => {
      order.push('queues');
      throw new Error('boom');
    });
    shutdown.register('workers', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('workers');
    });
    await Promise.all([shutdown.close(), shutdown.close()]);
    await shutdown.close();
    expect(order).toEqual(['workers', 'queues', 'redis']);
    expect(shutdown.isClosing).toBe(true);
  });
});
