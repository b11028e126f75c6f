import { UnrecoverableError } from 'bullmq';
import type { NotifyJob } from '../queues/notify.ts';
import { slackMessage } from './events.ts';

/**
 * POSTs one notification: the event itself to a webhook, a message to Slack. A 2xx delivers it;
 * 408, 429, 5xx and network errors throw to be retried with backoff; any other answer (a wrong
 * or revoked URL) fails for good, since trying again cannot help. The body of the answer is read
 * and dropped, never logged (it may echo the URL's secret).
 */
export async function sendNotification(job: NotifyJob, url: string, timeoutMs: number): Promise<number> {
  const body = job.target === 'slack' ? slackMessage(job.event) : job.event;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'concur-provisioning-notify' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  await res.arrayBuffer().catch(() => undefined);
  if (res.ok) return res.status;
  const message = `the ${job.target} notification endpoint answered ${res.status}`;
  if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(message);
  throw new UnrecoverableError(message);
}
