/**
 * The adaptive rate controller's decisions, as a pure function of what the fleet saw since the last
 * decision (docs/architecture.md#finding-concurs-rate-limit). No I/O and no clock of its own: the
 * shared limiter (shared-rate.ts) feeds it Redis's time and the calls every process reported, and
 * stores what it returns.
 *
 * The shape is TCP's: start low and grow by a factor per decision while calls succeed, the rate is
 * used and latency holds; on a 429 (or latency well above its baseline) cut below what Concur
 * accepted, and cut harder when the next 429 follows a cut that was not enough; after a cut climb
 * back quickly to just under the rate that was refused, then probe above it slowly, so a limit
 * that rises is found again.
 */

export interface RateControllerOptions {
  /** The rate of a fleet that knows nothing yet. */
  startRps: number;
  /** Never above this. */
  ceilingRps: number;
  /** Never below this (429s are also paused for Retry-After, so this cannot hammer). */
  minRps: number;
}

/** What every process saw since the last decision. */
export interface RateWindow {
  /** Calls Concur answered (anything but 429). */
  answered: number;
  /** Calls answered 429 (the cut itself follows `last429At`, which every 429's pause sets). */
  throttled: number;
  /** Calls that failed with 5xx, 408 or a network error (neither a reason to raise nor to cut). */
  failed: number;
  /** Sum and count of the latencies of answered calls, in ms. */
  latencyMsSum: number;
  latencyCount: number;
  /** When the latest 429 was reported (Redis time, ms); 0 when never. */
  last429At: number;
  /** Until when every process is paused for a Retry-After (Redis time, ms). */
  blockedUntil: number;
}

export type RatePhase = 'start' | 'steady';

export interface RateState {
  rps: number;
  /** `start` until the first cut: grow fast; `steady` afterwards. */
  phase: RatePhase;
  /** When this state was decided (Redis time, ms). */
  decidedAt: number;
  /** 429s reported up to this time belong to the last cut (in flight, or sent right after a pause). */
  episodeEnd: number;
  /** Cuts in a row, each following the previous one within STREAK_MS. */
  streak: number;
  /** The rate that was last refused (a 429 or a latency cut); undefined before any. */
  refusedRps: number | undefined;
  /** Calls Concur answered per second the rate was offered, smoothed over the last seconds. */
  acceptedRps?: number | undefined;
  /** Baseline latency of answered calls (ms): the lowest window mean, drifting up slowly. */
  baseLatencyMs: number | undefined;
}

export type RateDecision = 'raise' | 'hold' | 'idle' | 'cut_429' | 'cut_latency';

/** Growth per decision before the first cut. */
const START_GROWTH = 1.25;
/** After a cut, each decision closes this share of the gap to just under the refused rate. */
const RECOVER_SHARE = 0.3;
/** Just under the refused rate: where recovery ends and slow probing starts. */
const RECOVER_TO = 0.97;
/**
 * Probing above the refused rate: growth per decision, 1 % plus 0.1 % per second since the last
 * cut's episode ended (at most START_GROWTH): gentle near the limit, and a limit that rose is
 * found within a minute or so.
 */
const PROBE_GROWTH = 0.01;
const PROBE_ACCEL_PER_S = 0.001;
/** Cut factors for the first, second and further cuts of a streak. */
const CUTS = [0.9, 0.75, 0.5] as const;
/** A cut that follows the previous episode's end within this long continues its streak. */
const STREAK_MS = 10_000;
/** 429s up to this long after a pause ends still belong to the cut that caused it (calls already on their way). */
const SETTLE_MS = 200;
/** Weight of each decision's accepted rate in the smoothed one (about the last five seconds). */
const ACCEPTED_WEIGHT = 0.2;
/** A decision sooner than this after the last one (a 429's) does not judge the accepted rate. */
const MIN_WINDOW_MS = 500;
/** Share of the allowed calls a window must use before the rate may rise (a rate nobody uses proves nothing). */
const USED_TO_RAISE = 0.8;
/** Failed calls above this share of a window hold the rate. */
const FAILED_TO_HOLD = 0.1;
/** Latency cut: a window mean above base × factor + slack. */
const LATENCY_FACTOR = 2;
const LATENCY_SLACK_MS = 50;
const MIN_LATENCY_SAMPLES = 10;
/** The baseline follows a lasting rise in latency by this share of the gap per decision. */
const BASE_DRIFT = 0.02;

export function initialRateState(options: RateControllerOptions, now: number): RateState {
  return {
    rps: clamp(options.startRps, options),
    phase: 'start',
    decidedAt: now,
    episodeEnd: 0,
    streak: 0,
    refusedRps: undefined,
    baseLatencyMs: undefined,
  };
}

function clamp(rps: number, o: RateControllerOptions): number {
  return Math.min(o.ceilingRps, Math.max(o.minRps, rps));
}

/** The next state, from the last one and the window since it was decided. */
export function decideRate(
  state: RateState,
  w: RateWindow,
  now: number,
  options: RateControllerOptions,
): { state: RateState; decision: RateDecision } {
  // A ceiling lowered since the last decision applies at once.
  const next: RateState = { ...state, decidedAt: now, rps: clamp(state.rps, options) };
  const calls = w.answered + w.throttled + w.failed;
  // Paused time does not count as time the rate was offered (to judge whether it was used)...
  const elapsedMs = Math.max(1, now - state.decidedAt);
  const openMs = Math.max(1, elapsedMs - Math.max(0, Math.min(now, w.blockedUntil) - state.decidedAt));
  // ...but it does count for what Concur accepted: a limiter with a burst refills while a client
  // pauses, so over pauses and bursts together its rate is the limit.
  if (elapsedMs >= MIN_WINDOW_MS && calls > 0) {
    const sample = (w.answered * 1000) / elapsedMs;
    next.acceptedRps =
      state.acceptedRps === undefined ? sample : state.acceptedRps + (sample - state.acceptedRps) * ACCEPTED_WEIGHT;
  }

  if (w.last429At > state.episodeEnd) return { state: cut(next, w, now, options), decision: 'cut_429' };

  const meanLatency = w.latencyCount >= MIN_LATENCY_SAMPLES ? w.latencyMsSum / w.latencyCount : undefined;
  if (meanLatency !== undefined) {
    const base = state.baseLatencyMs;
    if (base !== undefined && now > state.episodeEnd && meanLatency > base * LATENCY_FACTOR + LATENCY_SLACK_MS) {
      // The baseline is not moved by a window judged congested; it drifts only in calm windows.
      return { state: cut(next, w, now, options), decision: 'cut_latency' };
    }
    next.baseLatencyMs =
      base === undefined || meanLatency < base ? meanLatency : base + (meanLatency - base) * BASE_DRIFT;
  }

  if (calls === 0) return { state: next, decision: 'idle' };
  const allowed = (state.rps * openMs) / 1000;
  if (calls < USED_TO_RAISE * allowed || w.failed > FAILED_TO_HOLD * calls || now <= state.episodeEnd)
    return { state: next, decision: 'hold' };

  next.rps = clamp(raise(state, now), options);
  return { state: next, decision: next.rps > state.rps ? 'raise' : 'hold' };
}

function raise(state: RateState, now: number): number {
  if (state.phase === 'start' || state.refusedRps === undefined) return state.rps * START_GROWTH;
  const target = state.refusedRps * RECOVER_TO;
  if (state.rps < target) return Math.min(target, state.rps + Math.max(0.1, (target - state.rps) * RECOVER_SHARE));
  const calmS = Math.max(0, now - state.episodeEnd) / 1000;
  return state.rps * Math.min(START_GROWTH, 1 + PROBE_GROWTH + PROBE_ACCEL_PER_S * calmS);
}

/**
 * What was refused is the lower of the rate in force and the rate Concur actually accepted lately
 * (a limit overshot fast, as when growing or when the limit drops, is far below the rate set).
 * The cut deepens when the last one was not enough: the next 429 came within STREAK_MS of it.
 */
function cut(next: RateState, w: RateWindow, now: number, options: RateControllerOptions): RateState {
  const notEnough = next.streak > 0 && now - next.episodeEnd < STREAK_MS;
  const streak = notEnough ? next.streak + 1 : 1;
  const factor = CUTS[Math.min(streak, CUTS.length) - 1]!;
  const refused = Math.min(next.rps, next.acceptedRps ?? next.rps);
  const rps = clamp(refused * factor, options);
  return {
    ...next,
    phase: 'steady',
    streak,
    refusedRps: refused,
    rps,
    episodeEnd: Math.max(now, w.blockedUntil) + SETTLE_MS,
  };
}
