import { filter as scimFilter, parse as parseScimFilter } from 'scim2-parse-filter';
import { SimHttpError } from '../errors.ts';
import { ENTERPRISE_URN, PATCH_OP_URN, splitExtensionPath } from './urns.ts';

/** One SCIM PatchOp operation, as sent. */
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

/** A PatchOp operation aimed at one async extension; `attrPath` '' means the whole extension. */
export interface ExtensionOp {
  op: 'add' | 'replace' | 'remove';
  attrPath: string;
  value?: unknown;
}

export interface SplitPatch {
  /** Operations for Identity (core, enterprise, sap), in order. Empty when the PATCH is extensions only. */
  identityOps: PatchOperation[];
  touchesEnterprise: boolean;
  /** Extension operations keyed by canonical URN, each list in request order. */
  extensionOps: Map<string, ExtensionOp[]>;
}

/** Raised when an extension PATCH path cannot be applied; reported per extension, not per request. */
export class ExtensionPathError extends Error {
  readonly schemaPath: string;
  constructor(message: string, schemaPath: string) {
    super(message);
    this.schemaPath = schemaPath;
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Splits a SCIM PatchOp into the Identity part (applied synchronously by the identity store) and the
 * Spend/Travel part (applied by UPS processing). Handles the official idioms: a whole extension via
 * `urn:…:spend:2.0:User:` (trailing colon) or without it, pathless add/replace whose value mixes
 * identity attributes and extension URN keys, and attribute / filtered paths inside an extension.
 * Throws a 400 SCIM error when the PatchOp itself is malformed.
 */
export function splitPatchOp(body: unknown): SplitPatch {
  if (!isObject(body))
    throw SimHttpError.scim(400, 'PatchOp body must be a JSON object', { scimType: 'invalidSyntax' });
  const rawOps = body.Operations ?? body.operations;
  if (!Array.isArray(rawOps) || rawOps.length === 0) {
    throw SimHttpError.scim(400, 'PatchOp requires a non-empty Operations array', { scimType: 'invalidSyntax' });
  }
  const result: SplitPatch = { identityOps: [], touchesEnterprise: false, extensionOps: new Map() };
  const addExt = (urn: string, op: ExtensionOp): void => {
    const list = result.extensionOps.get(urn) ?? [];
    list.push(op);
    result.extensionOps.set(urn, list);
  };
  rawOps.forEach((raw, index) => {
    const op = normaliseOp(raw, index);
    if (op.path === undefined || op.path === '') {
      // Pathless add/replace: the value's top-level keys decide where each part goes.
      const identityValue: Json = {};
      for (const [key, value] of Object.entries(op.value as Json)) {
        const hit = splitExtensionPath(key);
        if (hit && hit.attrPath === '') addExt(hit.urn, { op: op.op, attrPath: '', value });
        else identityValue[key] = value;
      }
      if (Object.keys(identityValue).length > 0) {
        if (Object.keys(identityValue).some((k) => k.toLowerCase() === ENTERPRISE_URN.toLowerCase()))
          result.touchesEnterprise = true;
        result.identityOps.push({ op: op.op, value: identityValue });
      }
      return;
    }
    const hit = splitExtensionPath(op.path);
    if (hit) {
      addExt(hit.urn, { op: op.op, attrPath: hit.attrPath, ...(op.value === undefined ? {} : { value: op.value }) });
      return;
    }
    if (op.path.toLowerCase().startsWith(ENTERPRISE_URN.toLowerCase())) result.touchesEnterprise = true;
    result.identityOps.push(op);
  });
  return result;
}

/** The identity PatchOp body for the identity store. */
export function identityPatchBody(ops: PatchOperation[]): Json {
  return { schemas: [PATCH_OP_URN], Operations: ops };
}

function normaliseOp(raw: unknown, index: number): PatchOperation {
  if (!isObject(raw)) throw badOp(index, 'must be an object');
  const name = typeof raw.op === 'string' ? raw.op.toLowerCase() : '';
  if (name !== 'add' && name !== 'replace' && name !== 'remove')
    throw badOp(index, `has an unknown op '${String(raw.op)}'`);
  const path = raw.path;
  if (path !== undefined && typeof path !== 'string') throw badOp(index, 'path must be a string');
  if (name === 'remove' && (path === undefined || path === '')) {
    throw SimHttpError.scim(400, `Operations[${index}]: remove requires a path`, { scimType: 'noTarget' });
  }
  if (name !== 'remove' && raw.value === undefined) throw badOp(index, 'requires a value');
  if (name !== 'remove' && (path === undefined || path === '') && !isObject(raw.value)) {
    throw badOp(index, 'without a path requires an object value');
  }
  const op: PatchOperation = { op: name };
  if (path !== undefined) op.path = path;
  if (raw.value !== undefined) op.value = raw.value;
  return op;
}

function badOp(index: number, what: string): SimHttpError {
  return SimHttpError.scim(400, `Operations[${index}] ${what}`, { scimType: 'invalidValue' });
}

/**
 * Applies extension operations to the stored value of one extension (undefined when none stored).
 * Returns the new value, or undefined when the extension was removed. Never mutates `current`.
 */
export function applyExtensionOps(urn: string, current: Json | undefined, ops: ExtensionOp[]): Json | undefined {
  let value: Json | undefined = current === undefined ? undefined : structuredClone(current);
  for (const op of ops) value = applyOne(urn, value, op);
  return value;
}

const PATH_RE = /^([A-Za-z_$][\w$-]*)(?:\[(.+)\])?(?:\.([\w$.-]+))?$/;

function applyOne(urn: string, current: Json | undefined, op: ExtensionOp): Json | undefined {
  const schemaPath = op.attrPath === '' ? urn : `${urn}:${op.attrPath}`;
  if (op.attrPath === '') {
    if (op.op === 'remove') return undefined;
    if (!isObject(op.value)) throw new ExtensionPathError(`Invalid Value: '${urn}'`, urn);
    if (op.op === 'replace') return structuredClone(op.value);
    return mergeAdd(current ?? {}, op.value);
  }
  const m = PATH_RE.exec(op.attrPath);
  if (!m) throw new ExtensionPathError(`Invalid attribute path [${op.attrPath}]`, schemaPath);
  const [, attr = '', filterText, subPath] = m;
  const target: Json = current ?? {};
  if (filterText === undefined) {
    const segments = subPath === undefined ? [attr] : [attr, ...subPath.split('.')];
    setPath(target, segments, op, schemaPath);
    return target;
  }
  let predicate: (item: unknown) => boolean;
  try {
    // Item filters inside extension values name extension sub-attributes (approver.value,
    // approvalType), which Identity's schema-aware parser does not know: a generic SCIM parser.
    const test = scimFilter(parseScimFilter(filterText));
    predicate = (item) => isObject(item) && test(item);
  } catch {
    throw new ExtensionPathError(`Invalid attribute path [${op.attrPath}]`, schemaPath);
  }
  const list = Array.isArray(target[attr]) ? (target[attr] as unknown[]) : [];
  const matches = list.filter(predicate);
  if (op.op === 'remove') {
    if (subPath === undefined) target[attr] = list.filter((item) => !predicate(item));
    else for (const item of matches) deletePath(item as Json, subPath.split('.'));
    return target;
  }
  if (matches.length === 0) {
    if (op.op === 'replace' || subPath !== undefined)
      throw new ExtensionPathError(`No target for [${op.attrPath}]`, schemaPath);
    target[attr] = [...list, structuredClone(op.value)];
    return target;
  }
  for (const item of matches as Json[]) {
    if (subPath !== undefined)
      setPath(item, subPath.split('.'), { op: 'replace', attrPath: subPath, value: op.value }, schemaPath);
    else if (isObject(op.value)) Object.assign(item, structuredClone(op.value));
    else throw new ExtensionPathError(`Invalid Value: '${schemaPath}'`, schemaPath);
  }
  return target;
}

function setPath(target: Json, segments: string[], op: ExtensionOp, schemaPath: string): void {
  let node = target;
  for (const seg of segments.slice(0, -1)) {
    if (!isObject(node[seg])) {
      if (op.op === 'remove') return;
      node[seg] = {};
    }
    node = node[seg] as Json;
  }
  const last = segments[segments.length - 1] ?? '';
  if (op.op === 'remove') {
    delete node[last];
    return;
  }
  if (op.value === undefined) throw new ExtensionPathError(`Invalid Value: '${schemaPath}'`, schemaPath);
  const existing = node[last];
  if (op.op === 'add' && Array.isArray(existing)) {
    node[last] = appendUnique(existing, Array.isArray(op.value) ? op.value : [op.value]);
  } else if (op.op === 'add' && isObject(existing) && isObject(op.value)) {
    node[last] = mergeAdd(existing, op.value);
  } else {
    node[last] = structuredClone(op.value);
  }
}

function deletePath(target: Json, segments: string[]): void {
  let node: unknown = target;
  for (const seg of segments.slice(0, -1)) node = isObject(node) ? node[seg] : undefined;
  if (isObject(node)) delete node[segments[segments.length - 1] ?? ''];
}

/** SCIM add: sub-attributes are set, multi-valued attributes gain the new items. */
function mergeAdd(base: Json, value: Json): Json {
  const out: Json = structuredClone(base);
  for (const [key, v] of Object.entries(value)) {
    const existing = out[key];
    if (Array.isArray(existing) && Array.isArray(v)) out[key] = appendUnique(existing, v);
    else if (isObject(existing) && isObject(v)) out[key] = mergeAdd(existing, v);
    else out[key] = structuredClone(v);
  }
  return out;
}

/**
 * Appends items, so a retried add does not duplicate them: an identical item is skipped, an item
 * with the same `id` (customData) replaces the old one, and a role the user already holds gains
 * the added groups (a user holds a role once).
 */
function appendUnique(existing: unknown[], added: unknown[]): unknown[] {
  const out = existing.map((item) => structuredClone(item));
  for (const item of added) {
    const id = isObject(item) ? item.id : undefined;
    const sameId = id === undefined ? -1 : out.findIndex((o) => isObject(o) && o.id === id);
    const roleName = isObject(item) && id === undefined ? item.roleName : undefined;
    const sameRole = typeof roleName === 'string' ? out.findIndex((o) => isObject(o) && o.roleName === roleName) : -1;
    if (sameRole >= 0) {
      const held = out[sameRole] as Json;
      if (!Array.isArray(held.roleGroups) && !(isObject(item) && Array.isArray(item.roleGroups))) continue;
      const groups = [
        ...(Array.isArray(held.roleGroups) ? held.roleGroups : []),
        ...(isObject(item) && Array.isArray(item.roleGroups) ? item.roleGroups : []),
      ];
      out[sameRole] = { ...held, roleGroups: [...new Set(groups)] };
    } else if (sameId >= 0) out[sameId] = structuredClone(item);
    else if (!out.some((o) => JSON.stringify(o) === JSON.stringify(item))) out.push(structuredClone(item));
  }
  return out;
}
