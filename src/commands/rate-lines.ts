import type { RateApi, RateLimitView } from '../shared/rate/index.ts';

/** One line per API family for `provision status`: the rate in force and the last 429. */
export function rateLines(views: Record<RateApi, RateLimitView>, now = Date.now()): string[] {
  return (Object.entries(views) as [RateApi, RateLimitView][]).map(([api, v]) => {
    const label = `rate ${api}`.padEnd(14);
    if (v.rps === undefined) return `${label}no calls within the hour`;
    const rate = v.rps === 0 ? 'no limit' : `${v.rps.toFixed(1)}/s`;
    const paused =
      v.blockedUntil === undefined ? '' : `, paused for Retry-After ${Math.ceil((v.blockedUntil - now) / 1000)} s`;
    const last =
      v.last429At === undefined
        ? 'no 429 within the hour'
        : `last 429 at ${new Date(v.last429At).toISOString()} (${ago(now - v.last429At)} ago)`;
    return `${label}${rate} (${v.mode ?? '?'})${paused}, ${last}`;
  });
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
