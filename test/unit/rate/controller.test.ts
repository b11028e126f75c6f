import { describe, expect, it } from 'vitest';
import {
  decideRate,
  initialRateState,
  type RateControllerOptions,
  type RateState,
  type RateWindow,
} from '../../../src/shared/rate/controller.ts';

const options: RateControllerOptions = { startRps: 5, ceilingRps: 100, minRps: 0.5 };
const T0 = 1_000_000;

/** A window of `seconds` in which the fleet used `share` of the rate, all answered in `latencyMs`. */
function used(state: RateState, seconds: number, share = 1, latencyMs = 50): RateWindow {
  const answered = Math.round(state.rps * seconds * share);
  return {
    answered,
    throttled: 0,
    failed: 0,
    latencyMsSum: answered * latencyMs,
    latencyCount: answered,
    last429At: 0,
    blockedUntil: 0,
  };
}

/** Runs one decision one second after the state's, as the shared limiter does. */
function step(state: RateState, window: Partial<RateWindow> = {}, o = options) {
  const now = state.decidedAt + 1000;
  return decideRate(state, { ...used(state, 1), ...window }, now, o);
}

describe('rate controller', () => {
  it('starts low, clamped to the ceiling', () => {
    expect(initialRateState(options, T0)).toMatchObject({ rps: 5, phase: 'start', decidedAt: T0 });
    expect(initialRateState({ ...options, ceilingRps: 2 }, T0).rps).toBe(2);
  });

  it('raises by a quarter a second while calls succeed, the rate is used and latency holds', () => {
    let s = initialRateState(options, T0);
    const rates = [];
    for (let i = 0; i < 4; i += 1) {
      const r = step(s);
      expect(r.decision).toBe('raise');
      s = r.state;
      rates.push(s.rps);
    }
    expect(rates).toEqual([6.25, 7.8125, 9.765625, 12.20703125]);
  });

  it('never raises above the ceiling, and applies a lowered ceiling at once', () => {
    let s: RateState = { ...initialRateState(options, T0), rps: 90 };
    s = step(s).state;
    expect(s.rps).toBe(100);
    expect(step(s).state.rps).toBe(100);
    expect(step(s, {}, { ...options, ceilingRps: 40 }).state.rps).toBe(40);
  });

  it('holds a rate nobody uses, and stays put when nothing was called', () => {
    const s = { ...initialRateState(options, T0), rps: 20 };
    expect(step(s, used(s, 1, 0.5))).toMatchObject({ decision: 'hold', state: { rps: 20 } });
    expect(step(s, used(s, 1, 0))).toMatchObject({ decision: 'idle', state: { rps: 20 } });
  });

  it('holds when more than a tenth of the calls failed (5xx, timeouts)', () => {
    const s = { ...initialRateState(options, T0), rps: 20 };
    expect(step(s, { answered: 16, failed: 4 }).decision).toBe('hold');
  });

  it('does not count a Retry-After pause as time the rate was offered', () => {
    const s = { ...initialRateState(options, T0), rps: 20 };
    // Paused for 600 ms of the second, 8 calls in the other 400 ms: the rate was used.
    const r = step(s, { answered: 8, latencyCount: 8, latencyMsSum: 400, blockedUntil: s.decidedAt + 600 });
    expect(r.decision).toBe('raise');
  });

  it('cuts on a 429, once per episode, harder when the next 429 follows soon after', () => {
    let s: RateState = { ...initialRateState(options, T0), rps: 40 };
    const at = s.decidedAt + 1000;
    let r = step(s, { throttled: 2, last429At: at - 10, blockedUntil: at + 1000 });
    expect(r).toMatchObject({ decision: 'cut_429', state: { rps: 36, phase: 'steady', streak: 1, refusedRps: 40 } });
    s = r.state;
    // Paused until at + 1000; 429s of calls already on their way until 200 ms after: the same episode.
    expect(s.episodeEnd).toBe(at + 1200);
    r = step(s, { throttled: 3, last429At: at + 100 });
    expect(r.decision).not.toMatch(/^cut/);
    expect(r.state.rps).toBe(36);
    s = { ...r.state, acceptedRps: 36 };
    // A 429 of a call sent after the pause, within 10 s: the cut was not enough.
    r = step(s, { throttled: 1, last429At: at + 2500 });
    expect(r).toMatchObject({ decision: 'cut_429', state: { rps: 27, streak: 2 } });
    r = step({ ...r.state, acceptedRps: 27 }, { throttled: 1, last429At: r.state.episodeEnd + 100 });
    expect(r).toMatchObject({ decision: 'cut_429', state: { rps: 13.5, streak: 3 } });
    // Long after: a fresh streak, a gentle cut again.
    s = { ...r.state, decidedAt: r.state.episodeEnd + 60_000, acceptedRps: 13.5 };
    r = step(s, { throttled: 1, last429At: s.decidedAt + 500 });
    expect(r).toMatchObject({ decision: 'cut_429', state: { rps: 12.15, streak: 1 } });
  });

  it('cuts below what Concur accepted lately, not below the rate set (an overshoot is far above the limit)', () => {
    const s: RateState = { ...initialRateState(options, T0), rps: 72, acceptedRps: 40 };
    // 40 answered in the second of the 429: the smoothed accepted rate stays 40; refused 40, cut to 36.
    const r = step(s, { answered: 40, throttled: 1, last429At: s.decidedAt + 900 });
    expect(r.state).toMatchObject({ rps: 36, refusedRps: 40, acceptedRps: 40 });
  });

  it('never cuts below the floor', () => {
    const s: RateState = { ...initialRateState(options, T0), rps: 0.52 };
    expect(step(s, { throttled: 1, last429At: s.decidedAt + 500 }).state.rps).toBe(0.5);
  });

  it('after a cut climbs back to just under the refused rate, then probes above it, faster the longer it goes', () => {
    let s: RateState = {
      ...initialRateState(options, T0),
      rps: 20,
      phase: 'steady',
      refusedRps: 40,
      episodeEnd: T0,
    };
    const rates: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      s = step(s).state;
      rates.push(s.rps);
    }
    // 30 % of the gap to 0.97 × 40 = 38.8 per second: close within ten seconds.
    expect(rates[0]).toBeCloseTo(20 + 0.3 * 18.8, 5);
    expect(rates[9]).toBeGreaterThan(38);
    expect(rates[9]).toBeLessThanOrEqual(38.8);
    // Then 1 % a second above it, plus 0.1 % for every second since the last cut.
    const above = rates.findIndex((r) => r > 38.8);
    const calmS = above + 2;
    expect(rates[above + 1]! / rates[above]!).toBeCloseTo(1.01 + 0.001 * calmS, 5);
  });

  it('probes a minute after the last cut at 7 % a second: a limit that rose is found', () => {
    const s: RateState = {
      ...initialRateState(options, T0),
      rps: 45,
      phase: 'steady',
      refusedRps: 40,
      episodeEnd: T0 - 59_000,
    };
    expect(step(s).state.rps).toBeCloseTo(45 * 1.07, 5);
  });

  it('cuts when latency grows well above its baseline, and lets the baseline drift with a lasting change', () => {
    let s: RateState = { ...initialRateState(options, T0), rps: 30 };
    s = step(s, used(s, 1, 1, 50)).state;
    expect(s.baseLatencyMs).toBe(50);
    // 140 ms: under 2 × 50 + 50; the baseline moves 2 % of the way.
    s = step(s, used(s, 1, 1, 140)).state;
    expect(s.baseLatencyMs).toBeCloseTo(51.8, 5);
    const r = step(s, used(s, 1, 1, 200));
    expect(r).toMatchObject({ decision: 'cut_latency', state: { phase: 'steady' } });
    // From the accepted rate (smoothed over the last seconds), which lags the rising rate.
    expect(r.state.rps).toBeCloseTo(0.9 * r.state.acceptedRps!, 5);
    expect(r.state.rps).toBeLessThan(s.rps * 0.9);
    // Too few answers to judge latency by.
    expect(step(s, { ...used(s, 1, 1, 500), answered: 9, latencyCount: 9, latencyMsSum: 4500 }).decision).not.toBe(
      'cut_latency',
    );
  });
});
