import type { RawRecord, RawValue } from '../../shared/mapping/types.ts';
import { inputError } from './errors.ts';
import { ValueScanner, isJsonWhitespace } from './json-scan.ts';
import { rowError, type DropItem, type ReaderContext } from './types.ts';

/*
 * JSON drops: a top-level array streamed element by element, or NDJSON (one object per line,
 * blank lines skipped). Each element becomes one row; nested objects flatten to dotted keys
 * ({"spend": {"country": "US"}} → "spend.country").
 *
 * Row errors (reading goes on): an element that is not an object, is not valid JSON, nests too
 * deep, is too long, or holds a list of objects; an NDJSON line that is not one JSON object.
 * File errors: the top level is not an array, brackets that do not match, anything after the
 * closing bracket, a missing comma, an array that never closes.
 */

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value === 'boolean' ? 'a boolean' : `a ${typeof value}`;
}

/** V8's JSON.parse message without the quoted input it appends (that may hold personal data). */
export function jsonErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split(', "')[0]!.split(' in JSON at')[0]!;
}

/** A parsed element → flat record, or the reason it cannot be one. */
export function flattenRecord(
  value: Record<string, unknown>,
  maxFieldBytes: number,
): { record: RawRecord } | { problem: string } {
  const out: RawRecord = Object.create(null) as RawRecord;
  const tooBig = (s: string) => s.length * 3 > maxFieldBytes && Buffer.byteLength(s) > maxFieldBytes;
  const walk = (obj: Record<string, unknown>, prefix: string): string | undefined => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix === '' ? k : `${prefix}.${k}`;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const p = walk(v as Record<string, unknown>, key);
        if (p !== undefined) return p;
        continue;
      }
      if (Object.prototype.hasOwnProperty.call(out, key))
        return `gives '${key}' twice (once nested, once as a dotted key)`;
      let cell: RawValue;
      if (Array.isArray(v)) {
        const items: string[] = [];
        for (const item of v) {
          if (item !== null && typeof item === 'object')
            return `has a list under '${key}' that holds objects or lists; only plain values are supported`;
          items.push(item === null ? '' : String(item));
        }
        cell = items;
      } else {
        cell = v === null || typeof v === 'boolean' || typeof v === 'string' ? v : String(v);
      }
      const strings = typeof cell === 'string' ? [cell] : Array.isArray(cell) ? cell : [];
      if (strings.some(tooBig)) return `has a value under '${key}' longer than ${maxFieldBytes} bytes`;
      out[key] = cell;
    }
    return undefined;
  };
  const problem = walk(value, '');
  return problem === undefined ? { record: out } : { problem };
}

function elementToItem(
  ctx: ReaderContext,
  rowNumber: number,
  line: number,
  scanned: { text: string } | { problem: string },
): DropItem {
  if ('problem' in scanned) return rowError(ctx, rowNumber, line, scanned.problem);
  let value: unknown;
  try {
    value = JSON.parse(scanned.text);
  } catch (err) {
    return rowError(ctx, rowNumber, line, `is not valid JSON (${jsonErrorMessage(err)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return rowError(ctx, rowNumber, line, `is ${describe(value)}, not an object`);
  }
  const flat = flattenRecord(value as Record<string, unknown>, ctx.limits.maxFieldBytes);
  if ('problem' in flat) return rowError(ctx, rowNumber, line, flat.problem);
  return { kind: 'row', rowNumber, line, record: flat.record };
}

type ArrayState = 'before' | 'first' | 'expectValue' | 'inValue' | 'afterValue' | 'done';

/** Splits a top-level JSON array into rows as text arrives. */
export class JsonArraySplitter {
  private state: ArrayState = 'before';
  private readonly scanner: ValueScanner;
  private line = 1;
  private elementLine = 1;

  constructor(private readonly ctx: ReaderContext) {
    this.scanner = new ValueScanner({ maxChars: ctx.limits.maxRecordChars, maxDepth: ctx.limits.maxDepth });
  }

  private fileError(problem: string, line: number): Error {
    return inputError(this.ctx.file, problem, { line });
  }

  push(text: string): DropItem[] {
    const out: DropItem[] = [];
    let counted = 0;
    const lineAt = (pos: number): number => {
      this.line += countNewlines(text, counted, pos);
      counted = pos;
      return this.line;
    };
    let i = 0;
    while (i < text.length) {
      if (this.state === 'inValue') {
        const end = this.scanner.feed(text, i);
        if (this.scanner.fatal !== undefined) {
          throw this.fileError(`is not valid JSON: ${this.scanner.fatal}`, lineAt(this.scanner.fatalAt));
        }
        if (end === -1) break;
        out.push(this.finishElement());
        this.state = 'afterValue';
        i = end;
        continue;
      }
      const c = text.charCodeAt(i);
      if (isJsonWhitespace(c)) {
        i++;
        continue;
      }
      const ch = text[i]!;
      switch (this.state) {
        case 'before':
          if (ch !== '[') {
            const what = ch === '{' ? 'an object' : 'not an array';
            throw this.fileError(
              `must hold a JSON array of objects, but its top level is ${what} (for one object per line use the ndjson format)`,
              lineAt(i),
            );
          }
          this.state = 'first';
          i++;
          continue;
        case 'afterValue':
          if (ch === ',') this.state = 'expectValue';
          else if (ch === ']') this.state = 'done';
          else
            throw this.fileError(`is not valid JSON: expected ',' or ']' after an element, found '${ch}'`, lineAt(i));
          i++;
          continue;
        case 'done':
          throw this.fileError('is not valid JSON: there is more data after the closing ]', lineAt(i));
        case 'first':
          if (ch === ']') {
            this.state = 'done';
            i++;
            continue;
          }
          break;
        case 'expectValue':
          if (ch === ']' || ch === ',')
            throw this.fileError(`is not valid JSON: '${ch}' after a comma (an empty element)`, lineAt(i));
          break;
      }
      this.elementLine = lineAt(i);
      this.scanner.reset();
      this.state = 'inValue';
    }
    lineAt(text.length);
    return out;
  }

  private finishElement(): DropItem {
    const rowNumber = ++this.ctx.rows;
    return elementToItem(this.ctx, rowNumber, this.elementLine, this.scanner.take());
  }

  end(): DropItem[] {
    const out: DropItem[] = [];
    if (this.state === 'inValue' && this.scanner.end()) {
      out.push(this.finishElement());
      this.state = 'afterValue';
    }
    if (this.state === 'before') throw inputError(this.ctx.file, 'is empty: expected a JSON array');
    if (this.state === 'inValue') {
      throw this.fileError(
        `ends inside an element that starts at line ${this.elementLine} (an unclosed string, object or array?)`,
        this.line,
      );
    }
    if (this.state !== 'done') throw this.fileError('ends before the array is closed with ]', this.line);
    return out;
  }
}

const CR = 0x0d;
const LF = 0x0a;
const LINE_BREAK = /[\r\n]/g;

/** Splits NDJSON into rows: one value per line, blank lines skipped, each line its own fate. */
export class NdjsonSplitter {
  private partial: string[] = [];
  private partialSize = 0;
  private oversize = false;
  private lineNo = 0;
  private sawContent = false;
  /** The previous chunk ended in a CR: a LF right after it belongs to the same line break. */
  private afterCr = false;
  private readonly scanner: ValueScanner;

  constructor(private readonly ctx: ReaderContext) {
    this.scanner = new ValueScanner({ maxChars: ctx.limits.maxRecordChars, maxDepth: ctx.limits.maxDepth });
  }

  private addPartial(s: string): void {
    if (this.oversize || s === '') return;
    this.partialSize += s.length;
    if (this.partialSize > this.ctx.limits.maxRecordChars) {
      this.oversize = true;
      this.partial = [];
    } else {
      this.partial.push(s);
    }
  }

  /**
   * Lines end with LF, CRLF or (old Mac exports) a lone CR; a raw CR can never be inside a JSON
   * value. Most chunks hold no CR at all and take the LF-only path.
   */
  push(text: string): DropItem[] {
    const out: DropItem[] = [];
    if (text === '') return out;
    let start = this.afterCr && text.charCodeAt(0) === LF ? 1 : 0;
    this.afterCr = false;
    const breaks = text.indexOf('\r', start) === -1 ? undefined : LINE_BREAK;
    for (;;) {
      let nl: number;
      if (breaks) {
        breaks.lastIndex = start;
        nl = breaks.exec(text)?.index ?? -1;
      } else nl = text.indexOf('\n', start);
      if (nl === -1) {
        this.addPartial(text.slice(start));
        return out;
      }
      this.addPartial(text.slice(start, nl));
      const item = this.finishLine();
      if (item) out.push(item);
      start = nl + 1;
      if (text.charCodeAt(nl) === CR) {
        if (start === text.length) this.afterCr = true;
        else if (text.charCodeAt(start) === LF) start += 1;
      }
    }
  }

  end(): DropItem[] {
    const item = this.partialSize > 0 || this.oversize ? this.finishLine() : undefined;
    if (!this.sawContent) throw inputError(this.ctx.file, 'is empty: no JSON object on any line');
    return item ? [item] : [];
  }

  private finishLine(): DropItem | undefined {
    const line = ++this.lineNo;
    const oversize = this.oversize;
    let s = this.partial.join('');
    this.partial = [];
    this.partialSize = 0;
    this.oversize = false;
    if (s.endsWith('\r')) s = s.slice(0, -1);
    let first = 0;
    while (first < s.length && isJsonWhitespace(s.charCodeAt(first))) first++;
    if (!oversize && first === s.length) return undefined;
    this.sawContent = true;
    const rowNumber = ++this.ctx.rows;
    if (oversize)
      return rowError(this.ctx, rowNumber, line, `is longer than ${this.ctx.limits.maxRecordChars} characters`);
    this.scanner.reset();
    let stop = this.scanner.feed(s, first);
    if (this.scanner.fatal !== undefined)
      return rowError(this.ctx, rowNumber, line, `is not valid JSON (${this.scanner.fatal})`);
    if (stop === -1) {
      if (!this.scanner.end())
        return rowError(
          this.ctx,
          rowNumber,
          line,
          'is not valid JSON (the value is cut off: an unclosed string, object or array)',
        );
      stop = s.length;
    }
    if (s.slice(stop).trim() !== '') {
      const problem = s[first] === '{' ? 'has more than one JSON value on the line' : 'is not a JSON object';
      return rowError(this.ctx, rowNumber, line, problem);
    }
    return elementToItem(this.ctx, rowNumber, line, this.scanner.take());
  }
}

export async function* readJson(
  text: AsyncIterable<string>,
  ctx: ReaderContext,
  ndjson: boolean,
): AsyncGenerator<DropItem> {
  const splitter = ndjson ? new NdjsonSplitter(ctx) : new JsonArraySplitter(ctx);
  for await (const chunk of text) yield* splitter.push(chunk);
  yield* splitter.end();
}
