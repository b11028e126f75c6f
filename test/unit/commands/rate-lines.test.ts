import { describe, expect, it } from 'vitest';
import { rateLines } from '../../../src/commands/rate-lines.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

describe('rateLines (provision status)', () => {
  it('shows the rate per API, how it is set, a pause in force and the last 429', () => {
    const lines = rateLines(
      {
        identity: { mode: 'auto', rps: 38.24, last429At: NOW - 90_000, blockedUntil: NOW + 1_200 },
        ups: { mode: 'fixed', rps: 0, last429At: undefined, blockedUntil: undefined },
      },
      NOW,
    );
    expect(lines).toEqual([
      'rate identity 38.2/s (auto), paused for Retry-After 2 s, last 429 at 2026-11-28T11:58:30.000Z (90 s ago)',
      'rate ups      no limit (fixed), no 429 within the hour',
    ]);
  });

  it('says when no process has called Concur', () => {
    const none = { mode: undefined, rps: undefined, last429At: undefined, blockedUntil: undefined };
    expect(rateLines({ identity: none, ups: none }, NOW)).toEqual([
      'rate identity no calls within the hour',
      'rate ups      no calls within the hour',
    ]);
  });
});
