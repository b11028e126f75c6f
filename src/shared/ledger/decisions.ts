import { z } from 'zod';
import { DROP_STATUSES } from './states.ts';

/** What an operator can decide about a drop (docs/operations.md#decisions). */
export const DECISION_ACTIONS = ['approve', 'cancel', 'pause', 'resume', 'run'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** How the decider proved who they are: the dashboard's Basic login, the API token, or the CLI. */
export const DECISION_VIAS = ['dashboard', 'token', 'cli', 'insecure'] as const;

/** Who took a decision, and from where. */
export const actorSchema = z.object({
  /** The dashboard user, the token's name (`DASHBOARD_TOKEN`), or the CLI's OS user. */
  by: z.string().min(1).max(200),
  via: z.enum(DECISION_VIAS),
  /** The client address the server saw (SERVER_TRUST_PROXY decides whose X-Forwarded-For counts). */
  ip: z.string().max(100).optional(),
  userAgent: z.string().max(300).optional(),
  /** The machine a CLI decision was taken on. */
  host: z.string().max(200).optional(),
});
export type Actor = z.infer<typeof actorSchema>;

/** One decision as the ledger keeps it: who, when (ISO 8601), from where, and what it changed. */
export const decisionSchema = actorSchema.extend({
  action: z.enum(DECISION_ACTIONS),
  at: z.iso.datetime(),
  previous: z.enum(DROP_STATUSES),
  status: z.enum(DROP_STATUSES),
  /** Rows the decision enqueued (approve, resume, run) or cancelled (cancel). */
  rows: z.number().int().min(0).optional(),
});
export type Decision = z.infer<typeof decisionSchema>;

/** Decisions kept per drop (the oldest go first): a drop is decided a handful of times. */
export const DECISIONS_KEPT = 200;

/** A decision read back; one that does not parse (written by a newer version) is skipped. */
export function parseDecision(raw: string): Decision | undefined {
  try {
    const parsed = decisionSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
