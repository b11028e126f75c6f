import { SimHttpError } from '../errors.ts';
import { isRecord, parseAttrPath, type AttrPath } from './schema.ts';

// `attributes` / `excludedAttributes` (reference §2.5): `id` and `schemas` always come back;
// `entitlements` is "request only" (returned only when named in `attributes`).

export interface Projection {
  attributes: AttrPath[];
  excluded: AttrPath[];
}

/** Accepts a comma-separated string (query) or an array of strings (search body). */
export function parseProjection(attributes: unknown, excludedAttributes: unknown): Projection {
  return {
    attributes: parseList(attributes, 'attributes'),
    excluded: parseList(excludedAttributes, 'excludedAttributes'),
  };
}

function parseList(v: unknown, field: string): AttrPath[] {
  if (v === undefined || v === null || v === '') return [];
  const names = typeof v === 'string' ? v.split(',') : Array.isArray(v) ? v : undefined;
  if (!names || !names.every((n) => typeof n === 'string')) {
    throw SimHttpError.scim(400, `'${field}' must be a list of attribute names`, { scimType: 'invalidValue' });
  }
  return names
    .map((n) => n.trim())
    .filter((n) => n !== '')
    .map((n) => {
      const p = parseAttrPath(n);
      if (!p)
        throw SimHttpError.scim(400, `Invalid attribute path [${n}]`, {
          scimType: 'invalidValue',
          messages: [{ code: 'INVALID_INPUT', message: `Invalid attribute path [${n}]`, type: 'error' }],
        });
      return p;
    });
}

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, p: AttrPath): void {
  const src = p.urn ? from[p.urn] : from;
  if (!isRecord(src)) return;
  let dst = to;
  if (p.urn) {
    if (!isRecord(to[p.urn])) to[p.urn] = {};
    dst = to[p.urn] as Record<string, unknown>;
  }
  if (p.attr === undefined) {
    Object.assign(dst, structuredClone(src));
    return;
  }
  const value = src[p.attr];
  if (value === undefined) return;
  if (!p.sub) {
    dst[p.attr] = structuredClone(value);
    return;
  }
  const sub = p.sub;
  if (Array.isArray(value)) {
    const prev: Record<string, unknown>[] = Array.isArray(dst[p.attr])
      ? (dst[p.attr] as Record<string, unknown>[])
      : value.map(() => ({}));
    value.forEach((item, i) => {
      const target = prev[i];
      if (isRecord(item) && item[sub] !== undefined && target) target[sub] = structuredClone(item[sub]);
    });
    dst[p.attr] = prev;
  } else if (isRecord(value) && value[sub] !== undefined) {
    if (!isRecord(dst[p.attr])) dst[p.attr] = {};
    (dst[p.attr] as Record<string, unknown>)[sub] = structuredClone(value[sub]);
  }
}

function removePath(doc: Record<string, unknown>, p: AttrPath): void {
  if (p.attr === undefined) {
    if (p.urn) delete doc[p.urn];
    return;
  }
  if (p.attr === 'id' && !p.urn) return;
  const c = p.urn ? doc[p.urn] : doc;
  if (!isRecord(c)) return;
  if (!p.sub) {
    delete c[p.attr];
    return;
  }
  const sub = p.sub;
  for (const item of Array.isArray(c[p.attr]) ? (c[p.attr] as unknown[]) : [c[p.attr]]) {
    if (isRecord(item)) delete item[sub];
  }
}

/** The resource as the caller asked to see it. */
export function project(resource: Record<string, unknown>, projection: Projection): Record<string, unknown> {
  if (projection.attributes.length > 0) {
    const out: Record<string, unknown> = { schemas: resource.schemas, id: resource.id };
    for (const p of projection.attributes) copyPath(resource, out, p);
    return out;
  }
  const out = structuredClone(resource);
  delete out.entitlements;
  for (const p of projection.excluded) removePath(out, p);
  return out;
}
