import type { TokenRefusal } from '../concur/token-cache.ts';
import type { DropView } from '../ledger/ledger.ts';
import { FAILED_STATES, TERMINAL_STATES } from '../ledger/states.ts';
import type { NotifyEvent, NotifyEventType } from '../queues/notify.ts';

/** One occurrence of an event: `key` names it among the drop's events (a drop is held, approved, held again...). */
export interface DropEventOccurrence {
  type: NotifyEventType;
  key: string;
  /** Epoch ms it happened. */
  at: number;
  reason?: string;
}

/**
 * The event a drop is in now, if any (docs/operations.md#notifications). Held and paused carry
 * the time they began in their key, so each hold or pause is announced once, and a drop paused
 * again later is announced again. A running drop whose workers wait because Concur refuses our
 * credentials counts as paused, keyed by when the refusal began.
 */
export function currentEvent(view: DropView, refusal?: TokenRefusal): DropEventOccurrence | undefined {
  const m = view.meta;
  const reason = m.reason ? { reason: m.reason } : {};
  switch (m.status) {
    case 'held': {
      const at = m.heldAt ?? m.createdAt;
      return { type: 'drop.held', key: `held_${at}`, at, ...reason };
    }
    case 'paused': {
      const at = m.pausedAt ?? m.createdAt;
      // An operator's pause sets operatorPausedAt with pausedAt; the brake and the conflict guard only pausedAt.
      const byOperator = m.operatorPausedAt !== undefined && m.operatorPausedAt === m.pausedAt;
      return byOperator
        ? { type: 'drop.paused', key: `paused_${at}`, at, ...reason }
        : { type: 'drop.braked', key: `braked_${at}`, at, ...reason };
    }
    case 'running':
      return refusal
        ? { type: 'drop.paused', key: `concur_${refusal.since}`, at: refusal.since, reason: refusal.message }
        : undefined;
    case 'complete': {
      const failed = failedRows(view);
      const at = m.completedAt ?? m.createdAt;
      return { type: failed > 0 ? 'drop.complete_with_failures' : 'drop.complete', key: 'complete', at };
    }
    default:
      return undefined;
  }
}

function failedRows(view: DropView): number {
  return FAILED_STATES.reduce((n, s) => n + (view.counts[s] ?? 0), 0);
}

/** The JSON event NOTIFY_WEBHOOK_URL receives. */
export function notifyEvent(
  view: DropView,
  occurrence: DropEventOccurrence,
  options: { publicUrl?: string | undefined; topErrors?: { code: string; rows: number }[] } = {},
): NotifyEvent {
  const counts: Record<string, number> = {};
  for (const s of TERMINAL_STATES) if ((view.counts[s] ?? 0) > 0) counts[s] = view.counts[s]!;
  return {
    event: occurrence.type,
    dropId: view.meta.id,
    file: view.meta.file,
    status: view.meta.status,
    ...(occurrence.reason ? { reason: occurrence.reason } : {}),
    at: new Date(occurrence.at).toISOString(),
    rows: view.meta.rows ?? 0,
    counts,
    failed: failedRows(view),
    ...(options.topErrors && options.topErrors.length > 0 ? { topErrors: options.topErrors } : {}),
    ...(options.publicUrl ? { url: dropPageUrl(options.publicUrl, view.meta.id) } : {}),
  };
}

export function dropPageUrl(publicUrl: string, dropId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/#drop=${encodeURIComponent(dropId)}`;
}

const HEADLINES: Record<NotifyEventType, string> = {
  'drop.held': 'is held for approval',
  'drop.braked': 'was stopped by the failure brake',
  'drop.paused': 'is paused',
  'drop.complete': 'is complete',
  'drop.complete_with_failures': 'is complete with failures',
};

/** Slack's mrkdwn treats these as markup: a file name or reason must show as text. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The event as a Slack incoming-webhook message: `text` (the notification line) and `blocks`. */
export function slackMessage(e: NotifyEvent): { text: string; blocks: unknown[] } {
  const text = `Drop ${e.dropId} (${e.file}) ${HEADLINES[e.event]}`;
  const settled = Object.entries(e.counts)
    .map(([state, n]) => `${state} ${n}`)
    .join(', ');
  const fields = [
    `*Status*\n${e.status}`,
    `*Rows*\n${e.rows}${e.failed > 0 ? ` (${e.failed} failed)` : ''}`,
    ...(settled ? [`*Settled*\n${settled}`] : []),
    ...(e.topErrors ? [`*Top errors*\n${e.topErrors.map((t) => `${t.code} ×${t.rows}`).join(', ')}`] : []),
  ];
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlack(text)}*` } },
    { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: escapeSlack(f) })) },
  ];
  if (e.reason) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(e.reason) } });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: e.url ? `<${e.url}|Open the drop page> · ${e.at}` : `${e.at} · set PUBLIC_URL for a link`,
      },
    ],
  });
  return { text: escapeSlack(text), blocks };
}
