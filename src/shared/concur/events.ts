import { z } from 'zod';
import { TOKEN_PATH } from './auth.ts';
import { classifyConcurResponse } from './errors.ts';
import type { HttpTransport } from './http.ts';
import { parseResponse, tokenResponseSchema } from './schemas.ts';
import { TrustedHosts } from './trusted-hosts.ts';

/** ESS v4 (reference §7): webhook subscriptions, managed with an app token (client_credentials). */
export const EVENTS_BASE = '/events/v4';
export const PROVISIONING_TOPIC = 'public.concur.user.provisioning';

export interface WebhookSubscription {
  /** Lowercase letters, digits, `.` and `-`; the same id updates the subscription. */
  id: string;
  /** Public HTTPS endpoint that receives the events. */
  endpoint: string;
  /** Default `public.concur.user.provisioning`. */
  topic?: string;
  /** Regex on eventType. Default `provisionCompleted`. */
  filter?: string;
}

export interface EventsClientOptions {
  http: HttpTransport;
  /** Any production base URI (the app token is per data center). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
}

const messageSchema = z.looseObject({ message: z.string().optional() });

/** An app token (client credentials) and the data center it is good for, refused unless trusted. */
export async function requestAppToken(o: EventsClientOptions): Promise<{ accessToken: string; baseUrl: string }> {
  const res = await o.http.request({
    method: 'POST',
    baseUrl: o.baseUrl,
    path: TOKEN_PATH,
    form: { client_id: o.clientId, client_secret: o.clientSecret, grant_type: 'client_credentials' },
  });
  if (res.status < 200 || res.status >= 300) {
    throw classifyConcurResponse({
      method: 'POST',
      path: res.path,
      statusCode: res.status,
      headers: res.headers,
      body: res.body,
      correlationId: res.correlationId,
      tokenEndpoint: true,
    });
  }
  const body = parseResponse(tokenResponseSchema, res.body, {
    what: 'app token',
    statusCode: res.status,
    correlationId: res.correlationId,
  });
  const baseUrl = (body.geolocation ?? o.baseUrl).replace(/\/+$/, '');
  // The app token goes only where a company token may (docs/security.md#the-concur-token-in-redis).
  const hosts = new TrustedHosts(o.baseUrl);
  if (!hosts.trusts(baseUrl)) throw hosts.refusal(baseUrl, 'The app token answer');
  return { accessToken: body.access_token, baseUrl };
}

/** `PUT /events/v4/subscriptions/webhook`: creates or updates the subscription; returns Concur's message. */
export async function subscribeWebhook(o: EventsClientOptions, sub: WebhookSubscription): Promise<string> {
  const token = await requestAppToken(o);
  const res = await o.http.request({
    method: 'PUT',
    baseUrl: token.baseUrl,
    path: `${EVENTS_BASE}/subscriptions/webhook`,
    headers: { authorization: `Bearer ${token.accessToken}` },
    json: {
      id: sub.id,
      topic: sub.topic ?? PROVISIONING_TOPIC,
      filter: sub.filter ?? 'provisionCompleted',
      webHookConfig: { endpoint: sub.endpoint },
    },
  });
  if (res.status < 200 || res.status >= 300) {
    throw classifyConcurResponse({
      method: 'PUT',
      path: res.path,
      statusCode: res.status,
      headers: res.headers,
      body: res.body,
      correlationId: res.correlationId,
    });
  }
  return (
    parseResponse(messageSchema, res.body ?? {}, { what: 'subscription', statusCode: res.status }).message ??
    `Subscription '${sub.id}' saved`
  );
}
