import {
  decideRate,
  initialRateState,
  type RateControllerOptions,
  type RateState,
  type RateWindow,
} from '../../../src/shared/rate/controller.ts';

/**
 * A discrete-event model of the fleet against a rate-limited Concur, on a fake clock: processes
 * with a number of call slots each take tokens from one shared bucket whose rate the controller
 * sets, report outcomes, and pause on 429 for Retry-After; "Concur" is a token bucket with one
 * second of burst that answers 429 with Retry-After in whole seconds (as the simulator does). Each
 * process flushes what it saw every FLUSH_MS and at once on a 429; a flush decides when a decision
 * is due, as the shared limiter does in Redis.
 */
export interface FleetModelOptions {
  processes: number;
  slotsPerProcess: number;
  /** Concur's hidden limit over time. */
  limitAt: (tMs: number) => number;
  durationMs: number;
  controller: RateControllerOptions;
  /** Latency of an accepted call (ms), given the calls accepted in the last second; default 50 ± 20. */
  latencyMs?: (acceptedLastSecond: number, rnd: () => number) => number;
  seed?: number;
  windowMs?: number;
  flushMs?: number;
  burstSeconds?: number;
}

export interface FleetSecond {
  accepted: number;
  throttled: number;
  rps: number;
  limit: number;
}

export interface FleetModelResult {
  seconds: FleetSecond[];
  decisions: { t: number; decision: string; rps: number }[];
}

export function runFleetModel(o: FleetModelOptions): FleetModelResult {
  const windowMs = o.windowMs ?? 1000;
  const flushMs = o.flushMs ?? 250;
  const burstSeconds = o.burstSeconds ?? 0.25;
  let seed = o.seed ?? 1;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const latency = o.latencyMs ?? ((_n: number, r: () => number) => 30 + 40 * r());

  // Events: a sorted queue of [time, seq, fn].
  const queue: { t: number; seq: number; fn: () => void }[] = [];
  let seq = 0;
  let now = 0;
  const at = (t: number, fn: () => void): void => {
    const e = { t, seq: seq++, fn };
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = queue[mid]!;
      if (m.t < t || (m.t === t && m.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, e);
  };

  // Concur.
  let sLimit = o.limitAt(0);
  let sTokens = sLimit;
  let sTs = 0;
  const serve = (): { ok: true } | { ok: false; retryAfterS: number } => {
    const limit = o.limitAt(now);
    if (limit !== sLimit) {
      sLimit = limit;
      sTokens = limit;
      sTs = now;
    }
    sTokens = Math.min(sLimit, sTokens + ((now - sTs) / 1000) * sLimit);
    sTs = now;
    if (sTokens >= 1) {
      sTokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - sTokens) / sLimit)) };
  };

  // The shared limiter (what Redis holds).
  let state: RateState = initialRateState(o.controller, 0);
  let tokens = Math.max(1, state.rps * burstSeconds);
  let tokensTs = 0;
  let blockedUntil = 0;
  let last429At = 0;
  const shared: Omit<RateWindow, 'last429At' | 'blockedUntil'> = {
    answered: 0,
    throttled: 0,
    failed: 0,
    latencyMsSum: 0,
    latencyCount: 0,
  };
  const decisions: FleetModelResult['decisions'] = [];
  const acquireWait = (): number => {
    if (blockedUntil > now) return blockedUntil - now;
    const burst = Math.max(1, state.rps * burstSeconds);
    tokens = Math.min(burst, tokens + ((now - tokensTs) * state.rps) / 1000);
    tokensTs = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - tokens) * 1000) / state.rps);
  };

  const seconds: FleetSecond[] = [];
  const second = (): FleetSecond => {
    const i = Math.floor(now / 1000);
    while (seconds.length <= i) seconds.push({ accepted: 0, throttled: 0, rps: state.rps, limit: o.limitAt(now) });
    return seconds[i]!;
  };

  interface Local {
    answered: number;
    throttled: number;
    latencyMsSum: number;
    latencyCount: number;
  }
  const flush = (local: Local, urgent: boolean): void => {
    shared.answered += local.answered;
    shared.throttled += local.throttled;
    shared.latencyMsSum += local.latencyMsSum;
    shared.latencyCount += local.latencyCount;
    Object.assign(local, { answered: 0, throttled: 0, latencyMsSum: 0, latencyCount: 0 });
    const since = now - state.decidedAt;
    if (since >= windowMs || (urgent && since >= 100)) {
      const r = decideRate(state, { ...shared, last429At, blockedUntil }, now, o.controller);
      state = r.state;
      decisions.push({ t: now, decision: r.decision, rps: state.rps });
      Object.assign(shared, { answered: 0, throttled: 0, failed: 0, latencyMsSum: 0, latencyCount: 0 });
    }
  };

  for (let p = 0; p < o.processes; p += 1) {
    const local: Local = { answered: 0, throttled: 0, latencyMsSum: 0, latencyCount: 0 };
    const tick = (): void => {
      flush(local, false);
      if (now + flushMs < o.durationMs) at(now + flushMs, tick);
    };
    at(Math.floor(rnd() * flushMs), tick);
    for (let s = 0; s < o.slotsPerProcess; s += 1) {
      const call = (): void => {
        if (now >= o.durationMs) return;
        const wait = acquireWait();
        if (wait > 0) {
          at(now + wait, call);
          return;
        }
        const sent = now;
        const answer = serve();
        if (!answer.ok) {
          at(now + 1, () => {
            local.throttled += 1;
            second().throttled += 1;
            last429At = now;
            blockedUntil = Math.max(blockedUntil, now + Math.max(250, answer.retryAfterS * 1000));
            flush(local, true);
            call();
          });
          return;
        }
        const ms = latency(seconds[Math.floor(now / 1000) - 1]?.accepted ?? 0, rnd);
        at(now + ms, () => {
          local.answered += 1;
          local.latencyMsSum += now - sent;
          local.latencyCount += 1;
          second().accepted += 1;
          call();
        });
      };
      at(Math.floor(rnd() * 100), call);
    }
  }

  while (queue.length > 0) {
    const e = queue.shift()!;
    now = e.t;
    if (now > o.durationMs) break;
    second().rps = state.rps;
    e.fn();
  }
  return { seconds, decisions };
}
