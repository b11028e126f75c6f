import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../../src/shared/redis.ts';

describe('parseRedisUrl', () => {
  it('parses a plain URL with password and db', () => {
    const p = parseRedisUrl('redis://:s3cr%40t@10.0.0.1:6380/2');
    expect(p.cluster).toBe(false);
    expect(p.nodes).toEqual([{ host: '10.0.0.1', port: 6380 }]);
    expect(p.options.password).toBe('s3cr@t');
    expect(p.options.db).toBe(2);
    expect(p.options.tls).toBeUndefined();
  });

  it('turns on TLS for rediss:// and keeps the username', () => {
    const p = parseRedisUrl('rediss://app:pw@cache.example:6379');
    expect(p.options.tls).toEqual({});
    expect(p.options.username).toBe('app');
    expect(p.options.password).toBe('pw');
  });

  it('reads a cluster node list', () => {
    const p = parseRedisUrl('redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003');
    expect(p.cluster).toBe(true);
    expect(p.nodes.map((n) => n.port)).toEqual([7001, 7002, 7003]);
  });

  it('rejects other schemes with a message that does not echo credentials', () => {
    expect(() => parseRedisUrl('http://user:topsecret@host')).toThrow(/REDIS_URL must start with/);
    expect(() => parseRedisUrl('http://user:topsecret@host')).not.toThrow(/topsecret/);
  });
});
