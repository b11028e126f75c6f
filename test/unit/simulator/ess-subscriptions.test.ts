import { describe, expect, it } from 'vitest';
import { SimHttpError } from '../../../src/simulator/errors.ts';
import { SubscriptionStore } from '../../../src/simulator/ess/subscriptions.ts';

const save = (store: SubscriptionStore, id: string, topic: string, filter?: string): void => {
  store.save(
    { id, topic, ...(filter === undefined ? {} : { filter }), webHookConfig: { endpoint: 'https://example.com/h' } },
    'app',
    'company-1',
  );
};

describe('SubscriptionStore.matching', () => {
  it('matches the topic and the whole eventType against the filter', () => {
    const store = new SubscriptionStore();
    save(store, 'all', 'public.concur.user.provisioning');
    save(store, 'exact', 'public.concur.user.provisioning', 'provisionCompleted');
    save(store, 'prefix-only', 'public.concur.user.provisioning', 'provision');
    save(store, 'other-topic', 'public.test');
    expect(
      store.matching('public.concur.user.provisioning', 'provisionCompleted', 'company-1').map((s) => s.id),
    ).toEqual(['all', 'exact']);
    expect(store.matching('public.concur.user.provisioning', 'provisionCompleted', 'company-2')).toEqual([]);
  });

  it('treats both spellings of the identity topic as one', () => {
    const store = new SubscriptionStore();
    save(store, 'identity', 'public.concur.profile.identity', 'IdentityProfile.*');
    expect(
      store.matching('public.concur.user.profile.identity', 'IdentityProfileUpdated', 'company-1').map((s) => s.id),
    ).toEqual(['identity']);
  });

  it('refuses an id owned by another application', () => {
    const store = new SubscriptionStore();
    save(store, 'shared', 'public.test');
    expect(() =>
      store.save(
        { id: 'shared', topic: 'public.test', webHookConfig: { endpoint: 'https://x.y' } },
        'other-app',
        'company-1',
      ),
    ).toThrow(SimHttpError);
  });
});
