import type { Config } from '../config.ts';
import { ProvError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RedisConnection } from '../redis.ts';
import { ConcurApi, type CallGate } from './api.ts';
import { TokenProvider } from './auth.ts';
import { ConcurHttp, type ConcurHttpOptions, type HttpTransport } from './http.ts';
import { IdentityApi } from './identity.ts';
import { ListApi } from './lists.ts';
import { SpendApi } from './spend.ts';
import { StatusApi } from './status.ts';
import { MemoryTokenStore, RedisTokenStore, type TokenStore } from './token-cache.ts';
import { TokenSealer, decodeTokenKey, localTokenKey } from './token-seal.ts';
import { UpsApi } from './ups.ts';

type ClientConfig = Pick<
  Config,
  | 'QUEUE_PREFIX'
  | 'CONCUR_BASE_URL'
  | 'CONCUR_CLIENT_ID'
  | 'CONCUR_CLIENT_SECRET'
  | 'CONCUR_COMPANY_ID'
  | 'CONCUR_REQUEST_TOKEN'
  | 'CONCUR_REFRESH_TOKEN'
  | 'CONCUR_TIMEOUT_MS'
  | 'CONCUR_TRUSTED_ORIGINS'
  | 'TOKEN_ENCRYPTION_KEY'
>;

/**
 * The sealer of the shared token: TOKEN_ENCRYPTION_KEY, or (config allows none only against a
 * simulator on this machine) a fixed key derived from the client and company ids.
 */
export function tokenSealerFor(
  config: Pick<ClientConfig, 'TOKEN_ENCRYPTION_KEY' | 'CONCUR_CLIENT_ID' | 'CONCUR_COMPANY_ID'>,
): TokenSealer {
  const key =
    config.TOKEN_ENCRYPTION_KEY === undefined
      ? localTokenKey(config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID)
      : decodeTokenKey(config.TOKEN_ENCRYPTION_KEY);
  if (!key) throw new ProvError('PROV_ERR_CONFIG', 'TOKEN_ENCRYPTION_KEY must be 32 bytes as base64 or hex');
  return new TokenSealer(key);
}

/** The token store every process of this client and company shares in Redis, sealed (`tokenSealerFor`). */
export function sharedTokenStore(
  redis: RedisConnection,
  config: Pick<ClientConfig, 'QUEUE_PREFIX' | 'TOKEN_ENCRYPTION_KEY' | 'CONCUR_CLIENT_ID' | 'CONCUR_COMPANY_ID'>,
): RedisTokenStore {
  return new RedisTokenStore({
    redis,
    prefix: config.QUEUE_PREFIX,
    clientId: config.CONCUR_CLIENT_ID,
    companyId: config.CONCUR_COMPANY_ID,
    sealer: tokenSealerFor(config),
  });
}

export interface ConcurClientOptions {
  config: ClientConfig;
  /** Shares the token between processes. Without it the token lives in this process only. */
  redis?: RedisConnection;
  log: Logger;
  /** Pool settings; timeouts default to CONCUR_TIMEOUT_MS (connect: at most 10 s). */
  http?: ConcurHttpOptions;
  /** Replaces the undici pools (tests). The client closes it on close(). */
  transport?: HttpTransport;
  /** Replaces the Redis/memory token store (tests). */
  tokenStore?: TokenStore;
  /** Shared rate limits per API family, acquired before every request (token calls are not limited). */
  gates?: { identity?: CallGate; ups?: CallGate };
  /** Refresh this long before expiry. Default 300 000. */
  refreshMarginMs?: number;
  /** Token refresh lock time-to-live. Default: twice the timeout, at least 10 s. */
  tokenLockTtlMs?: number;
}

export interface ConcurClient {
  identity: IdentityApi;
  ups: UpsApi;
  status: StatusApi;
  /** Spend role catalogue and spend read-back (UPS limiter). */
  spend: SpendApi;
  /** List v4: the company's lists and items (UPS limiter). */
  lists: ListApi;
  auth: TokenProvider;
  /** Closes the HTTP pools (idempotent). The Redis connection belongs to the caller. */
  close(): Promise<void>;
}

/** Wires pools, the shared token and the three API families. Opens nothing until the first call. */
export function createConcurClient(options: ConcurClientOptions): ConcurClient {
  const { config } = options;
  const log = options.log.child({ component: 'concur' });
  const timeout = config.CONCUR_TIMEOUT_MS;
  const http =
    options.transport ??
    new ConcurHttp({
      connectTimeoutMs: Math.min(timeout, 10_000),
      headersTimeoutMs: timeout,
      bodyTimeoutMs: timeout,
      ...options.http,
    });
  const store =
    options.tokenStore ?? (options.redis ? sharedTokenStore(options.redis, config) : new MemoryTokenStore());
  const auth = new TokenProvider({
    http,
    store,
    log,
    baseUrl: config.CONCUR_BASE_URL,
    trustedOrigins: config.CONCUR_TRUSTED_ORIGINS ?? [],
    credentials: {
      clientId: config.CONCUR_CLIENT_ID,
      clientSecret: config.CONCUR_CLIENT_SECRET,
      companyId: config.CONCUR_COMPANY_ID,
      requestToken: config.CONCUR_REQUEST_TOKEN,
      refreshToken: config.CONCUR_REFRESH_TOKEN,
    },
    ...(options.refreshMarginMs === undefined ? {} : { refreshMarginMs: options.refreshMarginMs }),
    lockTtlMs: options.tokenLockTtlMs ?? Math.max(10_000, timeout * 2),
  });
  const identityApi = new ConcurApi(http, auth, log, options.gates?.identity);
  const upsApi = new ConcurApi(http, auth, log, options.gates?.ups);
  let closing: Promise<void> | undefined;
  return {
    identity: new IdentityApi(identityApi),
    ups: new UpsApi(upsApi),
    status: new StatusApi(upsApi),
    spend: new SpendApi(upsApi),
    lists: new ListApi(upsApi),
    auth,
    close: () => (closing ??= http.close()),
  };
}
