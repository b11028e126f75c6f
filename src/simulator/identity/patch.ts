import { SimHttpError } from '../errors.ts';
import { FilterError, matchesItem, parseFilter, type Filter } from './filter.ts';
import { MULTI_VALUED, PATCH_OP_URN, attrTable, isRecord, matchUrn, parseAttrPath, type AttrPath } from './schema.ts';

// SCIM PatchOp (RFC 7644 §3.5.2) on an editable copy of a user resource. The result is then
// re-validated by buildUserResource, so PATCH and PUT share every rule.

type Op = 'add' | 'replace' | 'remove';
const READ_ONLY = new Set(['id', 'meta', 'schemas', 'localeOverrides']);

interface Target {
  path: AttrPath & { attr: string | undefined };
  /** Inner filter of `attr[...]`, if any; `path.sub` is then the part after `].`. */
  filter: Filter | undefined;
}

function invalidPath(text: string): SimHttpError {
  return SimHttpError.scim(400, `Invalid attribute path [${text}]`, { scimType: 'invalidPath' });
}

function parseTarget(text: string): Target {
  const open = text.indexOf('[');
  if (open === -1) {
    const path = parseAttrPath(text);
    if (!path) throw invalidPath(text);
    return { path, filter: undefined };
  }
  const close = text.lastIndexOf(']');
  if (close < open) throw invalidPath(text);
  const rest = text.slice(close + 1);
  if (rest !== '' && !rest.startsWith('.')) throw invalidPath(text);
  let parsed: Filter;
  try {
    parsed = parseFilter(text.slice(0, close + 1), { anyAttribute: true });
  } catch (err) {
    if (err instanceof FilterError)
      throw SimHttpError.scim(400, `Invalid filter in path [${text}]: ${err.message}`, { scimType: 'invalidPath' });
    throw err;
  }
  if (parsed.kind !== 'complex' || !parsed.path.attr || !MULTI_VALUED.has(parsed.path.attr)) throw invalidPath(text);
  let sub: string | undefined;
  if (rest) {
    const subName = rest.slice(1).toLowerCase();
    sub = (attrTable(parsed.path.urn)[parsed.path.attr] ?? []).find((s) => s.toLowerCase() === subName);
    if (!sub) throw invalidPath(text);
  }
  return { path: { ...parsed.path, sub }, filter: parsed.filter };
}

/** `type eq "work" and ...` → { type: "work" }: what a new item created by a filtered add gets. */
function equalities(f: Filter): Record<string, unknown> | undefined {
  if (f.kind === 'cmp' && f.op === 'eq' && f.path.sub) return { [f.path.sub]: f.value };
  if (f.kind === 'and') {
    const l = equalities(f.left);
    const r = equalities(f.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

function asArray(v: unknown): unknown[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

/** Add to a multi-valued attribute: an item whose `type` exists replaces that item (one per type). */
function addItems(existing: unknown, added: unknown): unknown[] {
  const out = [...asArray(existing)];
  for (const item of asArray(added)) {
    const type = isRecord(item) ? item.type : undefined;
    const at = type === undefined ? -1 : out.findIndex((e) => isRecord(e) && e.type === type);
    const dup = out.findIndex((e) => !isRecord(e) && e === item);
    if (at !== -1) out[at] = item;
    else if (dup === -1) out.push(item);
  }
  return out;
}

function container(
  doc: Record<string, unknown>,
  urn: string | undefined,
  create: boolean,
): Record<string, unknown> | undefined {
  if (!urn) return doc;
  const existing = doc[urn];
  if (isRecord(existing)) return existing;
  if (!create) return undefined;
  const fresh: Record<string, unknown> = {};
  doc[urn] = fresh;
  return fresh;
}

function applyUnfiltered(doc: Record<string, unknown>, path: AttrPath, op: Op, value: unknown, text: string): void {
  if (path.attr === undefined) {
    // The whole extension object, e.g. path "urn:...:enterprise:2.0:User".
    if (op === 'remove') {
      delete doc[path.urn as string];
      return;
    }
    if (!isRecord(value))
      throw SimHttpError.scim(400, `Value for [${text}] must be an object`, { scimType: 'invalidValue' });
    for (const [k, v] of Object.entries(value))
      applyTarget(doc, { path: resolveIn(path.urn, k), filter: undefined }, op, v, k);
    return;
  }
  const c = container(doc, path.urn, op !== 'remove');
  if (!c) return;
  const attr = path.attr;
  if (path.sub) {
    const sub = path.sub;
    if (MULTI_VALUED.has(attr)) {
      for (const item of asArray(c[attr])) {
        if (!isRecord(item)) continue;
        if (op === 'remove') delete item[sub];
        else item[sub] = value;
      }
      return;
    }
    if (op === 'remove') {
      if (isRecord(c[attr])) delete (c[attr] as Record<string, unknown>)[sub];
      return;
    }
    if (!isRecord(c[attr])) c[attr] = {};
    (c[attr] as Record<string, unknown>)[sub] = value;
    return;
  }
  if (op === 'remove') {
    delete c[attr];
  } else if (MULTI_VALUED.has(attr)) {
    // Concur: a multi-valued target without a filter is replaced on `replace`; `add` merges.
    c[attr] = op === 'add' ? addItems(c[attr], value) : asArray(value);
  } else if (isRecord(value) && isRecord(c[attr])) {
    c[attr] = { ...(c[attr] as Record<string, unknown>), ...value };
  } else {
    c[attr] = value;
  }
}

function applyFiltered(doc: Record<string, unknown>, target: Target, op: Op, value: unknown, text: string): void {
  const { path } = target;
  const filter = target.filter as Filter;
  const attr = path.attr as string;
  const c = container(doc, path.urn, op !== 'remove');
  if (!c) return;
  const items = asArray(c[attr]);
  const matching = items.filter((i): i is Record<string, unknown> => isRecord(i) && matchesItem(filter, i));
  if (op === 'remove') {
    if (path.sub) for (const item of matching) delete item[path.sub];
    else c[attr] = items.filter((i) => !matching.includes(i as Record<string, unknown>));
    return;
  }
  // `emails[type eq "work"]` with a string value sets that email's `value` (Concur's example).
  const patchFor = (): Record<string, unknown> => {
    if (path.sub) return { [path.sub]: value };
    return isRecord(value) ? value : { value };
  };
  if (matching.length === 0) {
    const base = equalities(filter);
    if (!base) throw SimHttpError.scim(400, `No value matches [${text}]`, { scimType: 'noTarget' });
    c[attr] = [...items, { ...base, ...patchFor() }];
    return;
  }
  for (const item of matching) Object.assign(item, patchFor());
}

function resolveIn(urn: string | undefined, key: string): AttrPath {
  const path = parseAttrPath(urn ? `${urn}:${key}` : key);
  if (!path) throw invalidPath(key);
  return path;
}

function applyTarget(doc: Record<string, unknown>, target: Target, op: Op, value: unknown, text: string): void {
  if (!target.path.urn && target.path.attr && READ_ONLY.has(target.path.attr)) {
    throw SimHttpError.scim(400, `Attribute [${text}] is read-only`, { scimType: 'mutability' });
  }
  if (target.filter) applyFiltered(doc, target, op, value, text);
  else applyUnfiltered(doc, target.path, op, value, text);
}

/** Applies a PatchOp body to `doc` in place, or throws a SCIM 400. */
export function applyPatch(doc: Record<string, unknown>, body: unknown): void {
  if (!isRecord(body))
    throw SimHttpError.scim(400, 'PatchOp body must be a JSON object', { scimType: 'invalidSyntax' });
  const schemas = body.schemas;
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_OP_URN.toLowerCase())
  ) {
    throw SimHttpError.scim(400, `PatchOp body must list the schema ${PATCH_OP_URN}`, { scimType: 'invalidSyntax' });
  }
  const ops = body.Operations ?? body.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw SimHttpError.scim(400, 'PatchOp body needs a non-empty Operations array', { scimType: 'invalidSyntax' });
  for (const raw of ops) {
    if (!isRecord(raw)) throw SimHttpError.scim(400, 'Each operation must be an object', { scimType: 'invalidSyntax' });
    const op = typeof raw.op === 'string' ? raw.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw SimHttpError.scim(400, `Invalid op '${String(raw.op)}': use add, replace or remove`, {
        scimType: 'invalidSyntax',
      });
    }
    const path = raw.path;
    if (path === undefined || path === null || path === '') {
      if (op === 'remove') throw SimHttpError.scim(400, "A 'remove' operation needs a path", { scimType: 'noTarget' });
      if (!isRecord(raw.value))
        throw SimHttpError.scim(400, 'An operation without a path needs an object value', { scimType: 'invalidValue' });
      for (const [key, v] of Object.entries(raw.value)) {
        const urn = matchUrn(key);
        const target = urn && urn.length === key.length ? resolveIn(undefined, urn) : resolveIn(undefined, key);
        applyTarget(doc, { path: target, filter: undefined }, op, v, key);
      }
      continue;
    }
    if (typeof path !== 'string') throw invalidPath(String(path));
    if (op !== 'remove' && raw.value === undefined)
      throw SimHttpError.scim(400, `Operation '${op}' on [${path}] needs a value`, { scimType: 'invalidValue' });
    applyTarget(doc, parseTarget(path), op, raw.value, path);
  }
}
