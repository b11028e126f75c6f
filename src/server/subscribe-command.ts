import { loadConfig } from '../shared/config.ts';
import { ConcurHttp } from '../shared/concur/http.ts';
import { subscribeWebhook } from '../shared/concur/events.ts';

/** `provision subscribe-webhook --url URL [--id ID]`: subscribes the server's webhook to provisionCompleted. */
export async function runSubscribeWebhook(opts: { url: string; id?: string }): Promise<void> {
  const config = loadConfig();
  const http = new ConcurHttp({ headersTimeoutMs: config.CONCUR_TIMEOUT_MS, bodyTimeoutMs: config.CONCUR_TIMEOUT_MS });
  try {
    const message = await subscribeWebhook(
      {
        http,
        baseUrl: config.CONCUR_BASE_URL,
        clientId: config.CONCUR_CLIENT_ID,
        clientSecret: config.CONCUR_CLIENT_SECRET,
      },
      { id: opts.id ?? 'provisioning.pipeline.webhook', endpoint: opts.url },
    );
    process.stdout.write(`${message}\n`);
  } finally {
    await http.close();
  }
}
