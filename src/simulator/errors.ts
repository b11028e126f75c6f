/** SCIM error bodies in Concur's documented style (`status` is a string). */
export interface ConcurMessage {
  code: string;
  message: string;
  schemaPath?: string;
  type?: 'error' | 'warning' | 'user';
}

export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: string;
  detail?: string;
  'urn:ietf:params:scim:api:messages:concur:2.0:Error'?: { messages: ConcurMessage[] };
}

export const SCIM_ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const CONCUR_ERROR_URN = 'urn:ietf:params:scim:api:messages:concur:2.0:Error';

export function scimError(
  status: number,
  detail: string,
  options: { scimType?: string; messages?: ConcurMessage[] } = {},
): ScimErrorBody {
  const body: ScimErrorBody = {
    schemas: [SCIM_ERROR_URN, CONCUR_ERROR_URN],
    status: String(status),
    detail,
  };
  if (options.scimType) body.scimType = options.scimType;
  body[CONCUR_ERROR_URN] = {
    messages: options.messages ?? [{ code: defaultCode(status), message: detail, type: 'error' }],
  };
  return body;
}

function defaultCode(status: number): string {
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 401) return 'UNAUTHORIZED';
  if (status >= 500) return 'INTERNAL_ERROR';
  return 'INVALID_INPUT';
}

/** Thrown by handlers and stores; the app's error handler turns it into the response. */
export class SimHttpError extends Error {
  readonly statusCode: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
    super(
      typeof body === 'object' && body !== null && 'detail' in body
        ? String((body as { detail: unknown }).detail)
        : `HTTP ${statusCode}`,
    );
    this.statusCode = statusCode;
    this.body = body;
    this.headers = headers;
  }

  static scim(
    status: number,
    detail: string,
    options: { scimType?: string; messages?: ConcurMessage[] } = {},
  ): SimHttpError {
    return new SimHttpError(status, scimError(status, detail, options));
  }
}
