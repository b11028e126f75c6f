import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../../src/shared/redis.ts';

// Parsing only; test/e2e/chaos-secrets-auth.test.ts runs a drop on a real TLS redis-server.
describe('REDIS_URL with credentials and TLS', () => {
  it('rediss:// turns TLS on and keeps user, password (URL-decoded) and db', () => {
    const p = parseRedisUrl('rediss://app:p%40ss%3Aword@cache.example.com:6380/2');
    expect(p).toEqual({
      cluster: false,
      nodes: [{ host: 'cache.example.com', port: 6380 }],
      options: { username: 'app', password: 'p@ss:word', db: 2, tls: {} },
    });
  });

  it('redis://:pass@ is a password without a user', () => {
    expect(parseRedisUrl('redis://:secret@127.0.0.1:7000').options).toEqual({ password: 'secret' });
  });

  it('rediss+cluster:// lists nodes with TLS and credentials', () => {
    const p = parseRedisUrl('rediss+cluster://:pw@h1:7001,h2:7002');
    expect(p.cluster).toBe(true);
    expect(p.nodes).toEqual([
      { host: 'h1', port: 7001 },
      { host: 'h2', port: 7002 },
    ]);
    expect(p.options).toEqual({ password: 'pw', tls: {} });
  });
});
