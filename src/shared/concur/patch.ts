import { PATCH_OP_URN } from './schemas.ts';

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  /** Optional for add/replace (a pathless value merges top-level keys), required for remove. */
  path?: string;
  value?: unknown;
}

export interface PatchRequest {
  schemas: [typeof PATCH_OP_URN];
  Operations: PatchOperation[];
}

/**
 * Builds a SCIM PatchOp body (Identity v4.1 and UPS). Example:
 * `patch().replace('active', false).replace(`${ENTERPRISE_URN}:department`, 'R&D').build()`.
 */
export class PatchBuilder {
  private readonly ops: PatchOperation[] = [];

  add(path: string | undefined, value: unknown): this {
    this.ops.push(path === undefined ? { op: 'add', value } : { op: 'add', path, value });
    return this;
  }

  replace(path: string | undefined, value: unknown): this {
    this.ops.push(path === undefined ? { op: 'replace', value } : { op: 'replace', path, value });
    return this;
  }

  remove(path: string): this {
    this.ops.push({ op: 'remove', path });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  build(): PatchRequest {
    return { schemas: [PATCH_OP_URN], Operations: this.ops.map((o) => ({ ...o })) };
  }
}

export function patch(): PatchBuilder {
  return new PatchBuilder();
}

/** A SCIM filter string literal: JSON string escaping is exactly what SCIM (RFC 7644) expects. */
export function scimString(value: string): string {
  return JSON.stringify(value);
}
