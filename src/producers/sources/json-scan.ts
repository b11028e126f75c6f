/*
 * A push scanner for one JSON value, fed text piece by piece. It finds where the value ends
 * (tracking strings, escapes and bracket nesting) and copies its text with every number wrapped
 * in quotes, so `JSON.parse` hands numbers back as their exact source text (`12345678901234567890`
 * and `1e400` survive). It does not validate the value fully; `JSON.parse` does that afterwards.
 *
 * Two kinds of trouble: `problem` (the value is unusable but its end is still known, e.g. too
 * deep, too long, a malformed number) and `fatal` (brackets do not match, so where anything ends
 * is unknown).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACK = 0x5b;
const RBRACK = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const MAX_NUMBER_CHARS = 100;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const STRING_STOP = /["\\]/g;

export function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isNumberStart(c: number): boolean {
  return c === MINUS || (c >= 0x30 && c <= 0x39);
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === MINUS || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65;
}

function isDelimiter(c: number): boolean {
  return isJsonWhitespace(c) || c === COMMA || c === RBRACK || c === RBRACE;
}

export interface ScanLimits {
  maxChars: number;
  maxDepth: number;
}

export class ValueScanner {
  private parts: string[] = [];
  private size = 0;
  private stack: number[] = [];
  /** Nesting beyond maxDepth: counted, not tracked by bracket type. */
  private extra = 0;
  private inString = false;
  private escape = false;
  private inNumber = false;
  private numText = '';
  private inLiteral = false;
  private expectKey = false;
  private started = false;
  problem: string | undefined;
  fatal: string | undefined;
  /** Index in the last fed text where the fatal error was seen. */
  fatalAt = 0;

  constructor(private readonly limits: ScanLimits) {}

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.stack = [];
    this.extra = 0;
    this.inString = false;
    this.escape = false;
    this.inNumber = false;
    this.numText = '';
    this.inLiteral = false;
    this.expectKey = false;
    this.started = false;
    this.problem = undefined;
    this.fatal = undefined;
    this.fatalAt = 0;
  }

  private get depth(): number {
    return this.stack.length + this.extra;
  }

  private spoil(problem: string): void {
    this.problem ??= problem;
    this.parts = [];
  }

  private append(text: string, from: number, to: number): void {
    if (this.problem !== undefined || to <= from) return;
    this.size += to - from;
    if (this.size > this.limits.maxChars) {
      this.spoil(`is longer than ${this.limits.maxChars} characters`);
      return;
    }
    this.parts.push(text.slice(from, to));
  }

  private endNumber(): void {
    this.inNumber = false;
    if (this.numText.length > MAX_NUMBER_CHARS) this.spoil(`has a number longer than ${MAX_NUMBER_CHARS} characters`);
    else if (!NUMBER.test(this.numText)) this.spoil(`has a malformed number '${this.numText}'`);
    this.append('"', 0, 1);
  }

  private fail(message: string, at: number): number {
    this.fatal = message;
    this.fatalAt = at;
    return at + 1;
  }

  /**
   * Scans `text` from `from` (which must not be whitespace when the value has not started).
   * Returns the index just past the value, or -1 when the value goes on beyond `text`.
   */
  feed(text: string, from: number): number {
    let seg = from;
    const n = text.length;
    for (let i = from; i < n; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          continue;
        }
        STRING_STOP.lastIndex = i;
        const stop = STRING_STOP.exec(text);
        if (stop === null) break;
        i = stop.index;
        if (text.charCodeAt(i) === BACKSLASH) {
          this.escape = true;
          continue;
        }
        this.inString = false;
        if (this.depth === 0) {
          this.append(text, seg, i + 1);
          return i + 1;
        }
        continue;
      }
      if (this.inNumber) {
        if (isNumberChar(c)) {
          if (this.numText.length <= MAX_NUMBER_CHARS) this.numText += text[i];
          continue;
        }
        this.append(text, seg, i);
        seg = i;
        this.endNumber();
        if (this.depth === 0) return i;
      }
      if (this.inLiteral) {
        if (isDelimiter(c)) {
          this.append(text, seg, i);
          return i;
        }
        continue;
      }
      switch (c) {
        case QUOTE:
          this.inString = true;
          this.started = true;
          break;
        case LBRACE:
        case LBRACK:
          this.started = true;
          if (this.extra > 0 || this.stack.length >= this.limits.maxDepth) {
            this.extra++;
            this.spoil(`nests deeper than ${this.limits.maxDepth} levels`);
          } else {
            this.stack.push(c === LBRACE ? RBRACE : RBRACK);
          }
          this.expectKey = c === LBRACE;
          break;
        case RBRACE:
        case RBRACK: {
          if (this.extra > 0) {
            this.extra--;
          } else {
            const want = this.stack.pop();
            if (want === undefined) return this.fail(`unexpected '${text[i]}'`, i);
            if (want !== c) return this.fail(`'${text[i]}' closes a '${want === RBRACE ? '{' : '['}'`, i);
          }
          this.expectKey = false;
          if (this.depth === 0) {
            this.append(text, seg, i + 1);
            return i + 1;
          }
          break;
        }
        case COLON:
          this.expectKey = false;
          break;
        case COMMA:
          if (this.stack.at(-1) === RBRACE && this.extra === 0) this.expectKey = true;
          break;
        default:
          if (isNumberStart(c)) {
            if (this.expectKey && this.stack.at(-1) === RBRACE && this.extra === 0)
              this.spoil('has a number where an object key belongs');
            this.append(text, seg, i);
            this.append('"', 0, 1);
            seg = i;
            this.inNumber = true;
            this.numText = text[i]!;
            this.started = true;
          } else if (this.depth === 0 && !isJsonWhitespace(c)) {
            // A bare word at the top (true, null, or junk): it ends at the next delimiter.
            this.inLiteral = true;
            this.started = true;
          }
      }
    }
    this.append(text, seg, n);
    return -1;
  }

  /** End of input: true when the value is complete (a trailing number or word ends here). */
  end(): boolean {
    if (this.inNumber) this.endNumber();
    this.inLiteral = false;
    return this.started && !this.inString && this.depth === 0;
  }

  /** The scanned value's rewritten text, or why it cannot be used. */
  take(): { text: string } | { problem: string } {
    if (this.problem !== undefined) return { problem: this.problem };
    return { text: this.parts.join('') };
  }
}
