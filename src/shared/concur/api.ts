import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { TokenProvider } from './auth.ts';
import type { HttpRequest, HttpResponse, HttpTransport } from './http.ts';
import { classifyConcurResponse } from './errors.ts';
import { parseResponse } from './schemas.ts';
import { ProvError } from '../errors.ts';

/** Per-call options every client method accepts. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Sent as `concur-correlationid` so our logs and Concur's can be joined. */
  correlationId?: string;
}

export interface ApiCall<S extends z.ZodType> extends CallOptions {
  method: HttpRequest['method'];
  /** Path under the token's geolocation, or an absolute URL (e.g. a `statusUrl`). */
  path: string;
  query?: HttpRequest['query'];
  json?: unknown;
  /** A JSON body already serialized, sent as is (instead of `json`). */
  jsonText?: string;
  schema: S;
  /** What the answer is, for error messages ("identity user", "provision status"). */
  what: string;
}

/** Waits until a call may go out (a shared rate limit). Called before every HTTP request. */
export interface CallGate {
  acquire(signal?: AbortSignal): Promise<void>;
}

export interface ApiResult<T> {
  data: T;
  status: number;
  correlationId: string | undefined;
}

/**
 * Authenticated calls: bearer token from the shared provider, one refresh-and-retry on 401 (a
 * second 401 is a retryable PROV_ERR_AUTH), non-2xx classified into a ProvError, 2xx parsed with
 * the given schema.
 */
export class ConcurApi {
  constructor(
    private readonly http: HttpTransport,
    private readonly auth: TokenProvider,
    private readonly log: Logger,
    private readonly gate?: CallGate,
  ) {}

  async call<S extends z.ZodType>(call: ApiCall<S>): Promise<ApiResult<z.output<S>>> {
    let sent = await this.send(call);
    let res = sent.res;
    if (res.status === 401) {
      this.log.warn(
        { method: call.method, path: res.path, correlationId: res.correlationId },
        'concur answered 401, refreshing the token once',
      );
      await this.auth.renewAfter401(sent.accessToken);
      sent = await this.send(call);
      res = sent.res;
      if (res.status === 401) {
        // Our credentials just gave us this token (a refusal would have thrown), so the token died
        // on the way (a short lifetime, a slow call) or the company is moving: not the row's
        // fault. Workers retry the job (docs/errors.md).
        throw new ProvError(
          'PROV_ERR_AUTH',
          `Concur ${call.method} ${res.path} answered 401 again with a freshly renewed token`,
          {
            retryable: true,
            statusCode: 401,
            details: {
              kind: 'auth',
              tokenRejected: true,
              statusCode: 401,
              method: call.method,
              path: res.path,
              correlationId: res.correlationId,
            },
          },
        );
      }
    }
    const logFields = { method: call.method, path: res.path, status: res.status, correlationId: res.correlationId };
    if (res.status < 200 || res.status >= 300) {
      const err = classifyConcurResponse({
        method: call.method,
        path: res.path,
        statusCode: res.status,
        headers: res.headers,
        body: res.body,
        correlationId: res.correlationId,
      });
      this.log.warn({ ...logFields, code: err.code, kind: err.details.kind }, 'concur request failed');
      throw err;
    }
    this.log.debug(logFields, 'concur request');
    const data = parseResponse(call.schema, res.body, {
      what: call.what,
      statusCode: res.status,
      correlationId: res.correlationId,
    });
    return { data, status: res.status, correlationId: res.correlationId };
  }

  /**
   * One request: the rate-limit wait first, then the token, so a long wait never sends a token
   * that expired meanwhile.
   */
  private async send(call: ApiCall<z.ZodType>): Promise<{ res: HttpResponse; accessToken: string }> {
    await this.gate?.acquire(call.signal);
    const token = await this.auth.current();
    // An absolute URL from a response (statusUrl) is only trusted for its path: the bearer token
    // goes to the token's geolocation and nowhere else.
    const path = /^https?:\/\//i.test(call.path) ? pathOf(call.path) : call.path;
    const res = await this.http.request({
      method: call.method,
      baseUrl: token.geolocation,
      path,
      query: call.query,
      json: call.json,
      jsonText: call.jsonText,
      headers: { authorization: `Bearer ${token.accessToken}` },
      signal: call.signal,
      correlationId: call.correlationId,
    });
    return { res, accessToken: token.accessToken };
  }
}

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}
