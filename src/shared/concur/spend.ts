import { z } from 'zod';
import type { CallOptions, ConcurApi } from './api.ts';
import { concurErrorKind } from './errors.ts';

/** Spend v4 role catalogue and Spend v4.1 read-back of a user's spend extensions. */
export const SPEND_ROLE_CODES = '/profile/spend/v4/Users/roleCodes';
export const SPEND_USERS = '/profile/spend/v4.1/Users';

const ROLE_CODE = /^[A-Z0-9_]+$/;
/** Keys an entry of the catalogue may name its code by (the published examples do not agree). */
const CODE_KEYS = ['code', 'roleCode', 'roleName', 'value', 'id', 'name'] as const;

/**
 * The role codes in a roleCodes answer, whatever its exact shape: a list of codes, a list of
 * entries naming the code (`code`, `roleCode`, `roleName`…), or such lists grouped by product.
 */
export function roleCodesOf(body: unknown): string[] {
  const codes = new Set<string>();
  const visit = (v: unknown, depth: number): void => {
    if (depth > 4) return;
    if (typeof v === 'string') {
      if (ROLE_CODE.test(v)) codes.add(v);
    } else if (Array.isArray(v)) {
      for (const e of v) visit(e, depth + 1);
    } else if (v !== null && typeof v === 'object') {
      const entry = v as Record<string, unknown>;
      const key = CODE_KEYS.find((k) => typeof entry[k] === 'string' && ROLE_CODE.test(entry[k]));
      if (key) codes.add(entry[key] as string);
      else for (const value of Object.values(entry)) if (typeof value === 'object') visit(value, depth + 1);
    }
  };
  visit(body, 0);
  return [...codes];
}

export class SpendApi {
  constructor(private readonly api: ConcurApi) {}

  /** The company's spend role codes (`GET /profile/spend/v4/Users/roleCodes`). */
  async roleCodes(opts: CallOptions = {}): Promise<string[]> {
    const res = await this.api.call({
      ...opts,
      method: 'GET',
      path: SPEND_ROLE_CODES,
      schema: z.unknown(),
      what: 'spend role codes',
    });
    return roleCodesOf(res.data);
  }

  /** The spend extensions Concur holds for a user, keyed by URN; undefined when Concur has none (404). */
  async getUser(uuid: string, opts: CallOptions = {}): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await this.api.call({
        ...opts,
        method: 'GET',
        path: `${SPEND_USERS}/${encodeURIComponent(uuid)}`,
        schema: z.record(z.string(), z.unknown()),
        what: 'spend user',
      });
      return res.data;
    } catch (err) {
      if (concurErrorKind(err) === 'not_found') return undefined;
      throw err;
    }
  }
}
