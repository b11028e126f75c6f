/**
 * The simulator's clock: real time plus an offset that tests advance (`POST /_sim/clock`),
 * so token expiry, the 120-minute provision timeout and 7-day retention are testable in ms.
 */
export class SimClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }

  reset(): void {
    this.offsetMs = 0;
  }

  get offset(): number {
    return this.offsetMs;
  }
}
