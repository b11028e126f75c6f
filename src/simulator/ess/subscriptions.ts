import { SimHttpError } from '../errors.ts';

export const PROVISIONING_TOPIC = 'public.concur.user.provisioning';
/** The identity topic is spelled two ways in the docs (§7.5); both are accepted and treated as one. */
const IDENTITY_TOPICS = ['public.concur.user.profile.identity', 'public.concur.profile.identity'];

/**
 * Every topic Concur's event-topics pages document (GET /events/v4/topics lists them; a
 * subscription may name any). The simulator emits events on the provisioning and the identity,
 * spend and travel profile topics; the others only accept subscriptions.
 */
export const TOPICS: readonly string[] = [
  'public.test',
  PROVISIONING_TOPIC,
  ...IDENTITY_TOPICS,
  'public.concur.user.profile.spend',
  'public.concur.user.travel.profile',
  'public.concur.expense.report',
  'public.concur.document.tax.compliance',
  'public.concur.request',
  'public.concur.financialintegration',
  'public.concur.spend.accountingintegration',
  'public.concur.travel.itinerary',
  'public.concur.travel.book',
  'concur.travel.search',
];

/** Documented limit of subscriptions per application. */
export const MAX_SUBSCRIPTIONS_PER_APP = 5;
const ID_RE = /^[a-z0-9.-]+$/;

export interface Subscription {
  id: string;
  topic: string;
  filter: string;
  webHookConfig: { endpoint: string };
  applicationId: string;
  scope: string;
  groups: string[];
  companyIds: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(message: string): SimHttpError {
  return new SimHttpError(400, { message });
}

/** Webhook subscriptions, in memory, with the documented id / filter / endpoint rules. */
export class SubscriptionStore {
  private readonly byId = new Map<string, { sub: Subscription; matcher: RegExp }>();

  /** PUT semantics: a new id creates, the same id (same application) updates. */
  save(body: unknown, applicationId: string, companyId: string): Subscription {
    if (!isObject(body)) throw bad('Subscription body must be a JSON object');
    const { id, topic, filter = '.*', webHookConfig } = body;
    if (typeof id !== 'string' || !ID_RE.test(id)) {
      throw bad("Subscription 'id' is required and may contain only lowercase letters, numbers, '.' and '-'");
    }
    if (typeof topic !== 'string' || !TOPICS.includes(topic)) throw bad(`Unknown topic '${String(topic)}'`);
    if (typeof filter !== 'string') throw bad("Subscription 'filter' must be a regular expression string");
    let matcher: RegExp;
    try {
      matcher = new RegExp(`^(?:${filter})$`);
    } catch {
      throw bad(`Subscription 'filter' is not a valid regular expression: ${filter}`);
    }
    const endpoint = isObject(webHookConfig) ? webHookConfig.endpoint : undefined;
    if (typeof endpoint !== 'string' || !isHttpUrl(endpoint))
      throw bad("Subscription 'webHookConfig.endpoint' must be an http(s) URL");
    const existing = this.byId.get(id);
    if (existing && existing.sub.applicationId !== applicationId) throw bad(`Subscription id '${id}' is already taken`);
    if (!existing && this.list().filter((s) => s.applicationId === applicationId).length >= MAX_SUBSCRIPTIONS_PER_APP) {
      throw bad(`An application may have at most ${MAX_SUBSCRIPTIONS_PER_APP} subscriptions`);
    }
    const sub: Subscription = {
      id,
      topic,
      filter,
      webHookConfig: { endpoint },
      applicationId,
      scope: '',
      groups: [],
      // Filled automatically for the one company that has connected (the simulator's tenant).
      companyIds: [companyId],
    };
    this.byId.set(id, { sub, matcher });
    return sub;
  }

  get(id: string): Subscription | undefined {
    return this.byId.get(id)?.sub;
  }

  list(): Subscription[] {
    return [...this.byId.values()].map((e) => e.sub);
  }

  remove(id: string): boolean {
    return this.byId.delete(id);
  }

  /** Subscriptions that receive an event: same topic, filter matches the whole eventType, company listed. */
  matching(topic: string, eventType: string, companyId: string): Subscription[] {
    return [...this.byId.values()]
      .filter(
        ({ sub, matcher }) =>
          sameTopic(sub.topic, topic) &&
          matcher.test(eventType) &&
          sub.companyIds.some((c) => c.toLowerCase() === companyId.toLowerCase()),
      )
      .map((e) => e.sub);
  }

  clear(): void {
    this.byId.clear();
  }
}

function sameTopic(a: string, b: string): boolean {
  return a === b || (IDENTITY_TOPICS.includes(a) && IDENTITY_TOPICS.includes(b));
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
