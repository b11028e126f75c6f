/* eslint-disable @typescript-eslint/no-explicit-any -- contract tests read JSON bodies loosely */
// Small JSON client for the simulator contract tests (real HTTP through fetch).

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; contentType?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

export const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SEARCH = 'urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest';

/** A valid create body; `n` makes userName and employeeNumber unique. */
export function userBody(n: number | string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { enterprise, ...rest } = extra as { enterprise?: Record<string, unknown> };
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: `user${n}@example.com`,
    active: true,
    name: { givenName: `Given${n}`, familyName: `Family${n}` },
    emails: [{ value: `user${n}@example.com`, type: 'work' }],
    [ENT]: { employeeNumber: `E${n}`, ...enterprise },
    ...rest,
  };
}
