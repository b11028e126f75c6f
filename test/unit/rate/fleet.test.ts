import { describe, expect, it } from 'vitest';
import type { RateControllerOptions } from '../../../src/shared/rate/controller.ts';
import { runFleetModel, type FleetSecond } from './fleet-model.ts';

// The controller against a modelled Concur on a fake clock: the targets, checked on the
// model (bench/adaptive-rate.ts measures them against the simulator with real processes).
const controller: RateControllerOptions = { startRps: 5, ceilingRps: 100, minRps: 0.5 };

/** Accepted calls per second and share of 429s over seconds [from, to). */
function over(seconds: FleetSecond[], from: number, to: number): { rate: number; share429: number } {
  let accepted = 0;
  let throttled = 0;
  for (let i = from; i < to; i += 1) {
    accepted += seconds[i]?.accepted ?? 0;
    throttled += seconds[i]?.throttled ?? 0;
  }
  return { rate: accepted / (to - from), share429: throttled / Math.max(1, accepted + throttled) };
}

/** The first second by which a `width`-second window from `from` on reaches `rate`, or -1. */
function reaches(seconds: FleetSecond[], from: number, rate: number, width = 5): number {
  for (let i = from; i + width <= seconds.length; i += 1)
    if (over(seconds, i, i + width).rate >= rate) return i + width;
  return -1;
}

function minWindow(seconds: FleetSecond[], from: number, to: number, width = 10): number {
  let min = Infinity;
  for (let i = from; i + width <= to; i += 1) min = Math.min(min, over(seconds, i, i + width).rate);
  return min;
}

describe.each([1, 4])('fleet of %i process(es) against a hidden limit of 40/s, halved to 20/s', (processes) => {
  const half = 240;
  const { seconds } = runFleetModel({
    processes,
    slotsPerProcess: 8,
    durationMs: (half + 120) * 1000,
    limitAt: (t) => (t < half * 1000 ? 40 : 20),
    controller,
    seed: processes,
  });

  it('reaches 0.9 × the limit within 120 s and holds it with at most 1 % of calls answered 429', () => {
    expect(reaches(seconds, 0, 36)).toBeGreaterThan(0);
    expect(reaches(seconds, 0, 36)).toBeLessThanOrEqual(120);
    expect(over(seconds, 120, half).rate).toBeGreaterThanOrEqual(36);
    // No stretch of it far below: a probe's 429 costs a Retry-After pause and a 10 % cut.
    expect(minWindow(seconds, 120, half)).toBeGreaterThanOrEqual(34);
    expect(over(seconds, 120, seconds.length).share429).toBeLessThanOrEqual(0.01);
  });

  it('is under the halved limit within 10 s and at 0.85 × it within 60 s, and stays there', () => {
    const under = seconds.findIndex((s, i) => i >= half && s.rps < 20) - half;
    expect(under).toBeGreaterThanOrEqual(0);
    expect(under).toBeLessThanOrEqual(10);
    const back = reaches(seconds, half, 17) - half;
    expect(back).toBeGreaterThan(0);
    expect(back).toBeLessThanOrEqual(60);
    expect(minWindow(seconds, half + 60, seconds.length)).toBeGreaterThanOrEqual(17);
  });
});

describe('fleet model, other Concurs', () => {
  it('finds a limit that rises (20/s, then 60/s)', () => {
    const { seconds } = runFleetModel({
      processes: 2,
      slotsPerProcess: 8,
      durationMs: 300_000,
      limitAt: (t) => (t < 150_000 ? 20 : 60),
      controller,
    });
    expect(over(seconds, 100, 150).rate).toBeGreaterThanOrEqual(18);
    const found = reaches(seconds, 150, 54) - 150;
    expect(found).toBeGreaterThan(0);
    expect(found).toBeLessThanOrEqual(120);
  });

  it('backs off when latency grows with load, though Concur never answers 429', () => {
    // Latency climbs 15 ms for every call per second above 30.
    const { seconds } = runFleetModel({
      processes: 2,
      slotsPerProcess: 16,
      durationMs: 180_000,
      limitAt: () => 1000,
      latencyMs: (n, rnd) => 40 + 20 * rnd() + Math.max(0, n - 30) * 15,
      controller,
    });
    const late = seconds.slice(60);
    expect(late.every((s) => s.throttled === 0)).toBe(true);
    expect(Math.max(...late.map((s) => s.rps))).toBeLessThan(45);
    expect(over(seconds, 60, 180).rate).toBeGreaterThanOrEqual(27);
  });

  it('never goes above the ceiling', () => {
    const { seconds } = runFleetModel({
      processes: 1,
      slotsPerProcess: 8,
      durationMs: 60_000,
      limitAt: () => 1000,
      controller: { ...controller, ceilingRps: 30 },
    });
    expect(Math.max(...seconds.map((s) => s.rps))).toBe(30);
    expect(over(seconds, 30, 60).rate).toBeGreaterThanOrEqual(28);
  });

  it('does not raise a rate the fleet cannot use', () => {
    // One call at a time at 50 ms: about 20 calls per second at most. A rate rises only while
    // the fleet uses 80 % of it, so it stops within a step (× 1.25) of 20 / 0.8.
    const { seconds } = runFleetModel({
      processes: 1,
      slotsPerProcess: 1,
      durationMs: 120_000,
      limitAt: () => 1000,
      controller,
    });
    expect(Math.max(...seconds.map((s) => s.rps))).toBeLessThan(32);
  });
});
