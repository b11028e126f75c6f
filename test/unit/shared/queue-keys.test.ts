import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/shared/config.ts';
import { isProvError } from '../../../src/shared/errors.ts';
import { namespaceKeyPrefixes, queueKeyPrefix } from '../../../src/shared/keys.ts';

describe('queue key layout', () => {
  it('gives each queue a hash tag of its own under a prefix that is one whole tag', () => {
    expect(queueKeyPrefix('{prov}', 'identity')).toBe('{prov_identity}');
    expect(queueKeyPrefix('{prov}', 'status')).toBe('{prov_status}');
    expect(namespaceKeyPrefixes('{prov}')).toEqual([
      '{prov}',
      '{prov_identity}:identity:',
      '{prov_extension}:extension:',
      '{prov_status}:status:',
      '{prov_notify}:notify:',
    ]);
  });

  it('keeps any other prefix as is: a tag inside shares its slot, no braces is plain Redis', () => {
    for (const prefix of ['app:{prov}', '{prov}:app', 'prov', '{}', '{a}{b}']) {
      expect(queueKeyPrefix(prefix, 'identity')).toBe(prefix);
      expect(namespaceKeyPrefixes(prefix)).toEqual([prefix]);
    }
  });
});

describe('QUEUE_PREFIX on a cluster', () => {
  const configError = (env: Record<string, string>): string | undefined => {
    try {
      loadConfig(env);
      return undefined;
    } catch (err) {
      return isProvError(err, 'PROV_ERR_CONFIG') ? err.message : 'not a config error';
    }
  };

  it('must hold a hash tag, or scripts spanning several keys would fail with CROSSSLOT', () => {
    expect(configError({ REDIS_URL: 'redis+cluster://h1:7000,h2:7001', QUEUE_PREFIX: 'prov' })).toMatch(
      /QUEUE_PREFIX: must contain a hash tag/,
    );
    expect(configError({ REDIS_URL: 'redis://:pw@h1:7000,h2:7001', QUEUE_PREFIX: '{}prov' })).toMatch(/QUEUE_PREFIX/);
    expect(configError({ REDIS_URL: 'rediss+cluster://h1:7000', QUEUE_PREFIX: '{prov}' })).toBeUndefined();
    expect(configError({ REDIS_URL: 'redis+cluster://h1:7000', QUEUE_PREFIX: 'app:{prov}' })).toBeUndefined();
    // One Redis: any prefix.
    expect(configError({ REDIS_URL: 'redis://h1:6379', QUEUE_PREFIX: 'prov' })).toBeUndefined();
  });
});
