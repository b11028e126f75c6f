import { createPublicKey } from 'node:crypto';
import { EVENTS_BASE, PROVISIONING_TOPIC, requestAppToken } from '../../shared/concur/events.ts';
import { loadWebhookPublicKey, WEBHOOK_PATH } from '../../server/webhook.ts';
import { fail, pass, reasonOf, warn, type Check } from './check.ts';
import { concurMessage, type DoctorEnv } from './env.ts';

// Webhooks are on when the server has Concur's public key (WEBHOOK_PUBLIC_KEY[_FILE]). Then Concur
// must hold a provisionCompleted subscription that points at PUBLIC_URL/webhooks/concur, or status
// checks wait for their polls (docs/operations.md#server).

interface Subscription {
  id?: unknown;
  topic?: unknown;
  filter?: unknown;
  webHookConfig?: { endpoint?: unknown };
}

export async function essChecks(env: DoctorEnv): Promise<Check[]> {
  let pem: string | undefined;
  try {
    pem = loadWebhookPublicKey(env.config);
  } catch (err) {
    return [fail('webhook.public-key', `${reasonOf(err)}: fix the path`), subscriptionOff('the key cannot be read')];
  }
  if (pem === undefined)
    return [
      pass(
        'ess.subscription',
        'webhooks off (no WEBHOOK_PUBLIC_KEY): status workers poll Concur; nothing to subscribe',
      ),
    ];
  const checks: Check[] = [];
  try {
    createPublicKey(pem);
    checks.push(pass('webhook.public-key', 'WEBHOOK_PUBLIC_KEY is a public key: deliveries can be verified'));
  } catch (err) {
    checks.push(
      fail(
        'webhook.public-key',
        `WEBHOOK_PUBLIC_KEY is not a PEM public key (${reasonOf(err)}): paste SAP's published key`,
      ),
    );
  }
  checks.push(await subscriptionCheck(env));
  return checks;
}

function subscriptionOff(why: string): Check {
  return warn('ess.subscription', `not checked: ${why}`);
}

async function subscriptionCheck(env: DoctorEnv): Promise<Check> {
  const { config } = env;
  const want = config.PUBLIC_URL ? `${config.PUBLIC_URL.replace(/\/+$/, '')}${WEBHOOK_PATH}` : undefined;
  const subscribe = `provision subscribe-webhook --url ${want ?? 'PUBLIC_URL/webhooks/concur'}`;
  let subs: Subscription[];
  try {
    // Subscriptions belong to the app: an app token (client credentials), not the company's.
    let app: { accessToken: string; baseUrl: string };
    try {
      app = await requestAppToken({
        http: env.http,
        baseUrl: env.token?.geolocation ?? config.CONCUR_BASE_URL,
        clientId: config.CONCUR_CLIENT_ID,
        clientSecret: config.CONCUR_CLIENT_SECRET,
      });
    } catch (err) {
      // Concur answered and refused; a network failure is for the outer catch.
      if ((err as { statusCode?: number }).statusCode === undefined) throw err;
      return fail(
        'ess.subscription',
        `no app token (${reasonOf(err)}): check CONCUR_CLIENT_ID and CONCUR_CLIENT_SECRET`,
      );
    }
    const res = await env.http.request({
      method: 'GET',
      baseUrl: app.baseUrl,
      path: `${EVENTS_BASE}/subscriptions`,
      headers: { authorization: `Bearer ${app.accessToken}` },
    });
    if (res.status !== 200 || !Array.isArray(res.body))
      return fail(
        'ess.subscription',
        `GET ${EVENTS_BASE}/subscriptions: ${concurMessage(res)}: the app needs events.topic.read`,
      );
    subs = res.body as Subscription[];
  } catch (err) {
    return fail('ess.subscription', `${reasonOf(err)}: check that this machine reaches Concur`);
  }
  const provisioning = subs.filter((s) => s.topic === PROVISIONING_TOPIC && matchesCompleted(s.filter));
  if (provisioning.length === 0)
    return fail('ess.subscription', `Concur has no subscription to provisionCompleted events: run \`${subscribe}\``);
  const endpoints = provisioning.map((s) => String(s.webHookConfig?.endpoint ?? ''));
  if (!want)
    return warn(
      'ess.subscription',
      `Concur sends provisionCompleted to ${endpoints.join(', ')}; set PUBLIC_URL to the server's public URL so doctor can check it is this one`,
    );
  if (endpoints.includes(want)) return pass('ess.subscription', `Concur sends provisionCompleted to ${want}`);
  return fail(
    'ess.subscription',
    `Concur sends provisionCompleted to ${endpoints.join(', ')}, not ${want}: run \`${subscribe} --id ${String(provisioning[0]?.id ?? 'provisioning.pipeline.webhook')}\``,
  );
}

/** Whether a subscription's eventType filter lets provisionCompleted through. */
function matchesCompleted(filter: unknown): boolean {
  if (filter === undefined || filter === null) return true;
  try {
    return new RegExp(`^(?:${String(filter)})$`).test('provisionCompleted');
  } catch {
    return false;
  }
}
