import { Pool, type Dispatcher } from 'undici';
import { ProvError } from '../errors.ts';
import { classifyNetworkError } from './errors.ts';

/** Connection and timeout settings for the pools (one pool per Concur origin). */
export interface ConcurHttpOptions {
  /** TCP/TLS connect timeout. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Time to wait for response headers. Default 30 000 ms. */
  headersTimeoutMs?: number;
  /** Idle time allowed between body chunks. Default 30 000 ms. */
  bodyTimeoutMs?: number;
  /** Keep-alive sockets per origin. Default 10. */
  connections?: number;
  /** How long an idle keep-alive socket is kept. Default 30 000 ms. */
  keepAliveTimeoutMs?: number;
  /** Told about every request when it ends (metrics). Must not throw; called synchronously. */
  observer?: HttpObserver;
}

/** One finished HTTP call: an answer (`status`) or a network failure (`errorCode`). */
export interface HttpCallEvent {
  method: string;
  /** Path without query. */
  path: string;
  status?: number;
  errorCode?: string;
  durationMs: number;
}

export type HttpObserver = (event: HttpCallEvent) => void;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL, or a path resolved against `baseUrl`. */
  url?: string;
  baseUrl?: string;
  path?: string;
  query?: Record<string, string | number | undefined>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** A JSON body already serialized, sent as is as `application/json` (instead of `json`). */
  jsonText?: string | undefined;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Our own correlation id, sent as `concur-correlationid`. */
  correlationId?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON; undefined for an empty body. */
  body: unknown;
  /** `concur-correlationid` of the answer (or the one we sent when Concur sent none). */
  correlationId: string | undefined;
  /** Path of the request without query, for messages and logs. */
  path: string;
}

/** What the rest of the client needs from HTTP; a fake implements it in unit tests. */
export interface HttpTransport {
  request(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

function resolveUrl(req: HttpRequest): URL {
  let url: URL;
  if (req.url !== undefined) url = new URL(req.url);
  else if (req.baseUrl !== undefined && req.path !== undefined) {
    // Keep any path prefix of the base (a geolocation may carry one).
    url = new URL(req.baseUrl.replace(/\/+$/, '') + (req.path.startsWith('/') ? req.path : `/${req.path}`));
  } else throw new ProvError('PROV_ERR_INTERNAL', 'HttpRequest needs url, or baseUrl and path');
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v !== undefined) url.searchParams.set(k, String(v));
  }
  return url;
}

function firstHeader(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * undici pools keyed by origin, injected into the client (no global dispatcher). Every answer
 * body is read to the end (or destroyed on failure) so sockets go back to the pool.
 */
export class ConcurHttp implements HttpTransport {
  private readonly pools = new Map<string, Pool>();
  private readonly options: Required<Omit<ConcurHttpOptions, 'observer'>>;
  private readonly observer: HttpObserver | undefined;
  private closed = false;

  constructor(options: ConcurHttpOptions = {}) {
    this.observer = options.observer;
    this.options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
      bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
      connections: options.connections ?? 10,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 30_000,
    };
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      if (this.closed) throw new ProvError('PROV_ERR_INTERNAL', 'ConcurHttp is closed');
      pool = new Pool(origin, {
        connections: this.options.connections,
        connect: { timeout: this.options.connectTimeoutMs },
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.bodyTimeoutMs,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = resolveUrl(req);
    const headers: Record<string, string> = { accept: 'application/json, application/scim+json', ...req.headers };
    let body: string | undefined;
    if (req.jsonText !== undefined || req.json !== undefined) {
      body = req.jsonText ?? JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
    } else if (req.form !== undefined) {
      body = new URLSearchParams(req.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (req.correlationId !== undefined) headers['concur-correlationid'] = req.correlationId;

    const path = url.pathname;
    const started = performance.now();
    const observe = (outcome: { status: number } | { errorCode: string }): void => {
      if (!this.observer) return;
      try {
        this.observer({ method: req.method, path, ...outcome, durationMs: performance.now() - started });
      } catch {
        // Metrics must never break a call.
      }
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool(url.origin).request({
        method: req.method,
        path: path + url.search,
        headers,
        body,
        signal: req.signal,
      });
    } catch (err) {
      observe({ errorCode: String((err as { code?: unknown }).code ?? 'ERROR') });
      throw classifyNetworkError({ method: req.method, path, cause: err, correlationId: req.correlationId });
    }

    const correlationId = firstHeader(res.headers, 'concur-correlationid') ?? req.correlationId;
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      res.body.destroy();
      observe({ errorCode: String((err as { code?: unknown }).code ?? 'ERROR') });
      throw classifyNetworkError({ method: req.method, path, cause: err, correlationId });
    }
    observe({ status: res.statusCode });
    return {
      status: res.statusCode,
      headers: res.headers,
      body: parseBody(text, res.statusCode, req.method, path, correlationId),
      correlationId,
      path,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }
}

/**
 * JSON or nothing. An unreadable 2xx body is PROV_ERR_RESPONSE; an unreadable error body is kept
 * as undefined so the status still decides the class (a 503 from a proxy is often HTML).
 */
function parseBody(
  text: string,
  status: number,
  method: string,
  path: string,
  correlationId: string | undefined,
): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (status >= 200 && status < 300) {
      throw new ProvError(
        'PROV_ERR_RESPONSE',
        `Concur ${method} ${path} answered ${status} with a body that is not JSON`,
        {
          statusCode: status,
          details: { kind: 'response', statusCode: status, method, path, correlationId, bodyLength: text.length },
        },
      );
    }
    return undefined;
  }
}
