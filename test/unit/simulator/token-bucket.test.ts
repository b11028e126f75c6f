import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../src/simulator/faults.ts';

describe('TokenBucket', () => {
  it('allows a burst of rps * burstSeconds, then answers with whole seconds until the next token', () => {
    const b = new TokenBucket();
    const results = Array.from({ length: 4 }, () => b.take(0, 2, 1.5));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, false]);
    expect(results[3]).toEqual({ ok: false, retryAfterS: 1 });
  });

  it('refills over time and never below one second of Retry-After', () => {
    const b = new TokenBucket();
    expect(b.take(0, 0.2, 1).ok).toBe(true); // capacity max(1, 0.2) = 1
    expect(b.take(1000, 0.2, 1)).toEqual({ ok: false, retryAfterS: 4 }); // 0.2 tokens, 0.8 missing at 0.2/s
    expect(b.take(5000, 0.2, 1).ok).toBe(true);
  });

  it('starts full again when the limit changes', () => {
    const b = new TokenBucket();
    expect(b.take(0, 1, 1).ok).toBe(true);
    expect(b.take(0, 1, 1).ok).toBe(false);
    expect(b.take(0, 2, 1).ok).toBe(true);
  });
});
