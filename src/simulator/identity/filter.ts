import {
  formatAttrPath,
  isDateAttr,
  isFilterable,
  isRecord,
  parseAttrPath,
  readPath,
  type AttrPath,
} from './schema.ts';

// SCIM filter subset of Identity v4.1 `.search` (reference §2.5), a small recursive-descent parser.
// scim2-parse-filter was not used: its matcher compares strings case-sensitively and splits
// attribute paths on dots, which breaks `urn:...:enterprise:2.0:User:employeeNumber`.
//
//   filter  := or
//   or      := and ('or' and)*
//   and     := unary ('and' unary)*              precedence: not > and > or
//   unary   := 'not' unary | atom
//   atom    := '(' filter ')' | path '[' filter ']' | path 'pr' | path op value
//   value   := "json string" | number | true | false | null | bare UUID | bare date

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type Literal = string | number | boolean | null;

export type Filter =
  | { kind: 'cmp'; path: AttrPath; op: CompareOp; value: Literal; asDate: boolean }
  | { kind: 'pr'; path: AttrPath }
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; filter: Filter }
  /** `emails[type eq "work"]`: inner paths carry the parent's `attr` and their own `sub`. */
  | { kind: 'complex'; path: AttrPath; filter: Filter };

export class FilterError extends Error {}

const COMPARE_OPS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const BRACKET_OPS = new Set<string>(['eq', 'sw', 'ew', 'co', 'pr']);
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const NUMBER_RE = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;
/** Dates may go unquoted, as the Identity search guide writes them (`startDate le 2013-12-31`). */
const DATE_LITERAL_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

type Token =
  { type: 'punct'; text: '(' | ')' | '[' | ']' } | { type: 'string'; text: string } | { type: 'word'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ type: 'punct', text: c });
      i += 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < input.length && input[j] !== '"') j += input[j] === '\\' ? 2 : 1;
      if (j >= input.length) throw new FilterError('Unterminated string in filter');
      try {
        tokens.push({ type: 'string', text: JSON.parse(input.slice(i, j + 1)) as string });
      } catch {
        throw new FilterError('Invalid string escape in filter');
      }
      i = j + 1;
    } else {
      let j = i;
      while (j < input.length && !/[\s()[\]"]/.test(input[j] as string)) j += 1;
      tokens.push({ type: 'word', text: input.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

interface Scope {
  /** Set inside `attr[...]`: inner names are sub-attributes of this parent. */
  parent: AttrPath | undefined;
}

export interface ParseOptions {
  /** PATCH paths may name any known attribute, not only the filterable ones. */
  anyAttribute?: boolean;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly options: ParseOptions,
  ) {}

  parse(): Filter {
    if (this.tokens.length === 0) throw new FilterError('Empty filter');
    const f = this.parseOr({ parent: undefined });
    const extra = this.peek();
    if (extra) throw new FilterError(`Unexpected '${extra.text}' in filter`);
    return f;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new FilterError('Unexpected end of filter');
    this.pos += 1;
    return t;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t?.type === 'word' && t.text.toLowerCase() === word;
  }

  private expectPunct(text: string): void {
    const t = this.next();
    if (t.type !== 'punct' || t.text !== text) throw new FilterError(`Expected '${text}' but found '${t.text}'`);
  }

  private parseOr(scope: Scope): Filter {
    let left = this.parseAnd(scope);
    while (this.isKeyword('or')) {
      this.pos += 1;
      left = { kind: 'or', left, right: this.parseAnd(scope) };
    }
    return left;
  }

  private parseAnd(scope: Scope): Filter {
    let left = this.parseUnary(scope);
    while (this.isKeyword('and')) {
      this.pos += 1;
      left = { kind: 'and', left, right: this.parseUnary(scope) };
    }
    if (scope.parent && left.kind === 'and') assertNoDuplicateAttrs(left);
    return left;
  }

  private parseUnary(scope: Scope): Filter {
    if (this.isKeyword('not')) {
      if (scope.parent) throw new FilterError("'not' is not supported inside [ ]");
      this.pos += 1;
      return { kind: 'not', filter: this.parseUnary(scope) };
    }
    return this.parseAtom(scope);
  }

  private parseAtom(scope: Scope): Filter {
    const t = this.next();
    if (t.type === 'punct' && t.text === '(') {
      const inner = this.parseOr(scope);
      this.expectPunct(')');
      if (scope.parent && containsOr(inner))
        throw new FilterError("'or' inside parentheses is not supported inside [ ]");
      return inner;
    }
    if (t.type !== 'word') throw new FilterError(`Expected an attribute but found '${t.text}'`);
    const path = this.resolvePath(t.text, scope);
    const after = this.peek();
    if (after?.type === 'punct' && after.text === '[') {
      if (scope.parent) throw new FilterError('Nested [ ] is not supported');
      if (path.sub || path.attr === undefined) throw new FilterError(`Invalid attribute path [${t.text}] before [`);
      this.pos += 1;
      const inner = this.parseOr({ parent: path });
      this.expectPunct(']');
      return { kind: 'complex', path, filter: inner };
    }
    const opToken = this.next();
    const op = opToken.type === 'word' ? opToken.text.toLowerCase() : '';
    if (scope.parent && !BRACKET_OPS.has(op))
      throw new FilterError(`Operator '${opToken.text}' is not supported inside [ ]`);
    if (op === 'pr') return { kind: 'pr', path };
    if (!COMPARE_OPS.has(op)) throw new FilterError(`Unknown operator '${opToken.text}'`);
    const value = this.parseValue();
    checkOperand(op as CompareOp, value);
    return { kind: 'cmp', path, op: op as CompareOp, value, asDate: isDateAttr(path) };
  }

  private resolvePath(text: string, scope: Scope): AttrPath {
    const full = scope.parent ? `${formatAttrPath(scope.parent)}.${text}` : text;
    const path = parseAttrPath(full);
    if (!path || (!this.options.anyAttribute && !isFilterable(path)))
      throw new FilterError(`Invalid attribute path [${text}]`);
    return path;
  }

  private parseValue(): Literal {
    const t = this.next();
    if (t.type === 'string') return t.text;
    if (t.type === 'punct') throw new FilterError(`Expected a value but found '${t.text}'`);
    const lower = t.text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (lower === 'null') return null;
    if (NUMBER_RE.test(t.text)) return Number(t.text);
    if (UUID_RE.test(t.text) || DATE_LITERAL_RE.test(t.text)) return t.text;
    throw new FilterError(`Invalid value '${t.text}': strings must be quoted`);
  }
}

function checkOperand(op: CompareOp, value: Literal): void {
  if ((op === 'co' || op === 'sw' || op === 'ew') && typeof value !== 'string') {
    throw new FilterError(`Operator '${op}' needs a string value`);
  }
  if ((op === 'gt' || op === 'ge' || op === 'lt' || op === 'le') && (typeof value === 'boolean' || value === null)) {
    throw new FilterError(`Operator '${op}' cannot compare ${String(value)}`);
  }
}

function containsOr(f: Filter): boolean {
  if (f.kind === 'or') return true;
  if (f.kind === 'and') return containsOr(f.left) || containsOr(f.right);
  return false;
}

function assertNoDuplicateAttrs(f: Filter): void {
  const seen = new Set<string>();
  const visit = (n: Filter): void => {
    if (n.kind === 'and') {
      visit(n.left);
      visit(n.right);
    } else if (n.kind === 'cmp' || n.kind === 'pr') {
      const key = formatAttrPath(n.path);
      if (seen.has(key)) throw new FilterError(`Attribute '${n.path.sub ?? key}' appears twice in one [ ] filter`);
      seen.add(key);
    }
  };
  visit(f);
}

/** Parses a filter or throws FilterError (→ 400 invalidFilter). */
export function parseFilter(text: string, options: ParseOptions = {}): Filter {
  return new Parser(tokenize(text), options).parse();
}

// --- evaluation -----------------------------------------------------------------------------

/** Values a comparison sees: complex values without a sub-attribute compare by their `value`. */
function comparableValues(values: unknown[]): unknown[] {
  return values.map((v) => (isRecord(v) && 'value' in v ? v.value : v)).filter((v) => v !== undefined && v !== null);
}

function toTime(v: unknown): number {
  if (typeof v !== 'string') return Number.NaN;
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(v) || !v.includes('T');
  return Date.parse(hasZone ? v : `${v}Z`);
}

/** -1/0/1, or undefined when the two cannot be ordered. Strings compare case-insensitively. */
function compare(actual: unknown, expected: Literal, asDate: boolean): number | undefined {
  if (expected === null) return undefined;
  if (asDate) {
    const a = toTime(actual);
    const b = toTime(expected);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return Math.sign(a - b);
  }
  if (typeof actual === 'number' && typeof expected === 'number') return Math.sign(actual - expected);
  if (typeof actual === 'boolean' && typeof expected === 'boolean') return actual === expected ? 0 : undefined;
  if (typeof actual === 'object') return undefined;
  const a = String(actual).toLowerCase();
  const b = String(expected).toLowerCase();
  return a === b ? 0 : a < b ? -1 : 1;
}

function matchOne(actual: unknown, op: CompareOp, expected: Literal, asDate: boolean): boolean {
  if (op === 'co' || op === 'sw' || op === 'ew') {
    if (typeof actual !== 'string' || typeof expected !== 'string') return false;
    const a = actual.toLowerCase();
    const b = expected.toLowerCase();
    return op === 'co' ? a.includes(b) : op === 'sw' ? a.startsWith(b) : a.endsWith(b);
  }
  const c = compare(actual, expected, asDate);
  if (c === undefined) return false;
  switch (op) {
    case 'eq':
      return c === 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    default:
      return false;
  }
}

/** Reads a path from the resource, or from one item of a multi-valued attribute inside `[ ]`. */
function read(target: Record<string, unknown>, path: AttrPath, inItem: boolean): unknown[] {
  if (!inItem) return readPath(target, path);
  const v = path.sub ? target[path.sub] : undefined;
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

function evaluate(f: Filter, target: Record<string, unknown>, inItem: boolean): boolean {
  switch (f.kind) {
    case 'and':
      return evaluate(f.left, target, inItem) && evaluate(f.right, target, inItem);
    case 'or':
      return evaluate(f.left, target, inItem) || evaluate(f.right, target, inItem);
    case 'not':
      return !evaluate(f.filter, target, inItem);
    case 'pr':
      return read(target, f.path, inItem).some((v) => v !== '' && !(Array.isArray(v) && v.length === 0));
    case 'complex': {
      const items = readPath(target, f.path);
      return items.some((item) => isRecord(item) && evaluate(f.filter, item, true));
    }
    case 'cmp': {
      const values = comparableValues(read(target, f.path, inItem));
      const { asDate } = f;
      // `eq null` matches a missing attribute; `ne` is "no value equals" and so matches nulls.
      if (f.op === 'eq' && f.value === null) return values.length === 0;
      if (f.op === 'ne') {
        if (f.value === null) return values.length > 0;
        return !values.some((v) => matchOne(v, 'eq', f.value, asDate));
      }
      return values.some((v) => matchOne(v, f.op, f.value, asDate));
    }
  }
}

/** True when one item of a multi-valued attribute matches the inner filter of `attr[...]`. */
export function matchesItem(inner: Filter, item: Record<string, unknown>): boolean {
  return evaluate(inner, item, true);
}

/** True when the resource matches the filter. */
export function matchesFilter(f: Filter, resource: Record<string, unknown>): boolean {
  return evaluate(f, resource, false);
}
