import { Writable } from 'node:stream';
import type { DropEncoding } from '../../shared/mapping/encodings.ts';
import type { Config } from '../../shared/config.ts';
import {
  ConcurHttp,
  MemoryTokenStore,
  createConcurClient,
  type ConcurClient,
  type HttpRequest,
  type HttpResponse,
  type TokenRecord,
  type TokenStore,
} from '../../shared/concur/index.ts';
import { sharedTokenStore } from '../../shared/concur/client.ts';
import { createLogger, type Logger } from '../../shared/logger.ts';
import { createRedis, type RedisConnection } from '../../shared/redis.ts';

/** What `doctor` was asked to look at besides the configuration. */
export interface DoctorOptions {
  drop?: string;
  mapping?: string;
  format?: 'csv' | 'json' | 'ndjson' | 'employee-import';
  encoding?: DropEncoding;
}

/** One thing the token provider logged: which grant it tried and how Concur answered. */
export interface GrantEvent {
  grant: 'refresh_token' | 'password';
  ok: boolean;
  oauthCode?: number;
}

/**
 * Shared by the check groups, filled in as they run: Redis once it answered, the company token
 * once Concur granted it. A group that needs what an earlier one could not get says so.
 */
export interface DoctorEnv {
  config: Config;
  options: DoctorOptions;
  log: Logger;
  redis: RedisConnection;
  redisUp: boolean;
  http: ConcurHttp;
  store: TokenStore;
  concur: ConcurClient;
  /** What the token provider did during `token.grant`, from its own log lines. */
  grants: GrantEvent[];
  token?: TokenRecord;
  /** Concur's `Date` header and our clock around the call that carried it. */
  dated?: { date: string; sentAt: number; receivedAt: number };
  /** Role codes the mapping file writes itself (constants, defaults, value maps). */
  mappingRoles?: string[];
  /** Role codes the drop's valid rows carry, with the rows that carry each. */
  dropRoles?: Map<string, number[]>;
  close(): Promise<void>;
}

/** Concur calls from the doctor wait at most this long: a hung check must not hang the report. */
const DOCTOR_TIMEOUT_MS = 10_000;

/** A pino destination that keeps the token provider's grant outcomes instead of printing them. */
function grantRecorder(events: GrantEvent[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        try {
          const entry = JSON.parse(line) as { grant?: unknown; expiresInS?: unknown; oauthCode?: unknown };
          if (entry.grant !== 'refresh_token' && entry.grant !== 'password') continue;
          const oauthCode = typeof entry.oauthCode === 'number' ? entry.oauthCode : undefined;
          events.push({
            grant: entry.grant,
            ok: entry.expiresInS !== undefined,
            ...(oauthCode === undefined ? {} : { oauthCode }),
          });
        } catch {
          // Not one of the provider's lines.
        }
      }
      done();
    },
  });
}

/** Opens nothing yet: Redis connects in the background, Concur on the first call. */
export function openDoctorEnv(config: Config, options: DoctorOptions): DoctorEnv {
  const log = createLogger({ level: 'silent' });
  const grants: GrantEvent[] = [];
  const concurLog = createLogger({ level: 'info' }, grantRecorder(grants));
  const redis = createRedis(config.REDIS_URL, 'producer');
  redis.on('error', () => undefined);
  const timeout = Math.min(config.CONCUR_TIMEOUT_MS, DOCTOR_TIMEOUT_MS);
  const http = new ConcurHttp({ connectTimeoutMs: timeout, headersTimeoutMs: timeout, bodyTimeoutMs: timeout });
  const store = sharedTokenStore(redis, config);
  const env: DoctorEnv = {
    config,
    options,
    log,
    redis,
    redisUp: false,
    http,
    store,
    concur: createConcurClient({ config, log: concurLog, transport: http, tokenStore: store }),
    grants,
    close: async () => {
      await env.concur.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return env;
}

/** Without Redis the token lives in this process only (the shared one cannot be read). */
export function useMemoryTokenStore(env: DoctorEnv): void {
  env.store = new MemoryTokenStore();
  const concurLog = createLogger({ level: 'info' }, grantRecorder(env.grants));
  env.concur = createConcurClient({ config: env.config, log: concurLog, transport: env.http, tokenStore: env.store });
}

/** One call with the company token to its geolocation; non-2xx answers are returned, not thrown. */
export async function concurCall(
  env: DoctorEnv,
  req: Omit<HttpRequest, 'baseUrl' | 'url'> & { path: string },
): Promise<HttpResponse> {
  if (!env.token) throw new Error('no company token');
  const sentAt = Date.now();
  const res = await env.http.request({
    ...req,
    baseUrl: env.token.geolocation,
    headers: { ...req.headers, authorization: `Bearer ${env.token.accessToken}` },
  });
  const date = res.headers.date;
  if (typeof date === 'string' && !env.dated) env.dated = { date, sentAt, receivedAt: Date.now() };
  return res;
}

/** Concur's words for a refusal: the SCIM `detail`, a Concur message, or the OAuth description. */
export function concurMessage(res: HttpResponse): string {
  const body = res.body as Record<string, unknown> | undefined;
  const messages = body?.['urn:ietf:params:scim:api:messages:concur:2.0:Error'] as
    { messages?: { message?: unknown }[] } | undefined;
  const text =
    (typeof body?.detail === 'string' && body.detail) ||
    (typeof messages?.messages?.[0]?.message === 'string' && messages.messages[0].message) ||
    (typeof body?.error_description === 'string' && body.error_description) ||
    (typeof body?.message === 'string' && body.message) ||
    '';
  return `HTTP ${res.status}${text ? ` "${text.slice(0, 160)}"` : ''}`;
}
