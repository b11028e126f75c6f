import { readTokenRefusal } from '../shared/concur/token-cache.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import { ProvisionStore } from '../shared/provisions/store.ts';
import { createRuntime, ensureDurableRedis } from '../shared/runtime.ts';
import { buildServer } from './app.ts';
import { BOARD_PATH } from './board.ts';
import { loadWebhookPublicKey, WEBHOOK_PATH } from './webhook.ts';

export interface ServeOptions {
  /** Overrides PORT. */
  port?: number;
  /** Overrides SERVER_HOST. */
  host?: string;
  /** Serve without credentials (also DASHBOARD_INSECURE=true). */
  insecure?: boolean;
  env?: Record<string, string | undefined>;
}

/** `provision serve`: builds the server, listens, and stays up until a signal. Returns the base URL. */
export async function runServer(options: ServeOptions = {}): Promise<string> {
  const rt = createRuntime('server', 'server', options.env);
  await ensureDurableRedis(rt);
  const { config, log } = rt;
  const insecure = options.insecure === true || config.DASHBOARD_INSECURE;
  const auth = {
    user: config.DASHBOARD_USER,
    password: config.DASHBOARD_PASSWORD,
    token: config.DASHBOARD_TOKEN,
    metricsToken: config.METRICS_TOKEN,
    insecure,
  };
  const publicKeyPem = loadWebhookPublicKey(config);
  let app;
  try {
    app = await buildServer({
      ledger: rt.ledger,
      queues: rt.queues,
      redis: rt.redis,
      prefix: config.QUEUE_PREFIX,
      log,
      auth,
      readOnly: config.DASHBOARD_READ_ONLY,
      uploadMaxBytes: config.UPLOAD_MAX_BYTES,
      guards: guardsFromConfig(config),
      tokenRefusal: () =>
        readTokenRefusal(rt.redis, config.QUEUE_PREFIX, config.CONCUR_CLIENT_ID, config.CONCUR_COMPANY_ID),
      durability: { check: rt.durability, required: config.REQUIRE_DURABLE_REDIS },
      timeouts: { headersMs: config.SERVER_HEADER_TIMEOUT_MS, requestMs: config.SERVER_REQUEST_TIMEOUT_MS },
      ...(config.SERVER_TRUST_PROXY === undefined ? {} : { trustProxy: config.SERVER_TRUST_PROXY }),
      ...(publicKeyPem
        ? {
            webhook: {
              store: new ProvisionStore(rt.redis, config.QUEUE_PREFIX),
              statusQueue: rt.queues.status,
              publicKeyPem,
              eventTtlMs: config.WEBHOOK_EVENT_TTL_MS,
              maxAgeMs: config.WEBHOOK_MAX_AGE_MS,
              log,
            },
          }
        : {}),
    });
  } catch (err) {
    await rt.shutdown.close();
    throw err;
  }
  rt.shutdown.register('http server', () => app.close());
  rt.shutdown.register('log flush', () => log.flush());
  rt.shutdown.installSignalHandlers();

  if (insecure && !(auth.token || (auth.user && auth.password))) {
    log.warn(
      'INSECURE MODE: Bull Board, the drops API, the page and /metrics answer anyone who can reach this port. Use only on a local machine.',
    );
    process.stderr.write('WARNING: serving WITHOUT credentials (insecure local mode)\n');
  }
  if (!publicKeyPem) log.info(`no WEBHOOK_PUBLIC_KEY: ${WEBHOOK_PATH} is off; status workers poll`);
  const address = await app.listen({ port: options.port ?? config.PORT, host: options.host ?? config.SERVER_HOST });
  log.info({ url: address }, 'server listening');
  process.stderr.write(`Server listening on ${address} (drops: ${address}/ , Bull Board: ${address}${BOARD_PATH})\n`);
  return address;
}
