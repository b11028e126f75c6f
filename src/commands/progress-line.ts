/**
 * Progress while a large file is read or planned (`ingest`, `ingest --plan`): a line on stderr
 * every half second, only on a terminal or with `--progress`, so pipes and logs stay quiet.
 * On a terminal the line redraws in place; otherwise each update is its own line.
 */
export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 500,
  ) {}

  /** `what` is e.g. `reading hr.csv`; `rows` the rows done so far. */
  update(what: string, rows: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.write(`${what}: ${rows.toLocaleString('en-US')} rows`);
  }

  /** The final count of a phase (always written when enabled, so a short phase shows too). */
  done(what: string, rows: number): void {
    if (!this.enabled) return;
    this.write(`${what}: ${rows.toLocaleString('en-US')} rows, done`);
    if (this.stream.isTTY) this.stream.write('\n');
    this.shown = false;
    this.last = 0;
  }

  private write(text: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else this.stream.write(`${text}\n`);
  }

  /** Ends a redrawn line before other output. */
  clear(): void {
    if (this.shown && this.stream.isTTY) this.stream.write('\n');
    this.shown = false;
  }
}
