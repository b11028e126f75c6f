import type { RowOutcome } from '../../shared/ledger/ledger.ts';
import type { StatusLedger } from '../../shared/ledger/ports.ts';
import type { RowState } from '../../shared/ledger/states.ts';
import type { ProvisionOperation } from '../../shared/concur/schemas.ts';
import { entryOf, groupByDrop, type ProvisionRecord } from '../../shared/provisions/entries.ts';
import type { ProvisionStore } from '../../shared/provisions/store.ts';

/** Concur's answer on one failed extension, as the ledger and the report keep it. */
export interface ExtensionFailure {
  name: string;
  code: string | undefined;
  result: string | undefined;
  messages: { code?: string; message?: string; schemaPath?: string; type?: string }[];
}

export type RowVerdict =
  { state: 'done'; patch: RowOutcome } | { state: 'extension_failed' | 'timed_out'; patch: RowOutcome };

const OK_RESULTS = new Set(['success', 'no-op']);
/** The code Concur (and the simulator) give operations it failed at its own 120-minute timeout. */
const CONCUR_TIMEOUT_CODE = '408';

/** `urn:ietf:params:scim:schemas:extension:spend:2.0:User` -> `spend:2.0:User`. */
export function shortUrn(name: string): string {
  const m = /extension:(.+)$/.exec(name) ?? /schemas:(.+)$/.exec(name);
  return m?.[1] ?? name;
}

function cleanMessages(list: unknown): ExtensionFailure['messages'] {
  if (!Array.isArray(list)) return [];
  return list.map((m) => {
    const r = (m ?? {}) as Record<string, unknown>;
    const out: ExtensionFailure['messages'][number] = {};
    for (const k of ['code', 'message', 'schemaPath', 'type'] as const) if (typeof r[k] === 'string') out[k] = r[k];
    return out;
  });
}

/**
 * How one row ended, from its operation in the provision status: `done` when every extension is
 * `success` or `no-op`; `timed_out` when Concur failed it at its own timeout without an error;
 * otherwise `extension_failed` with every failed extension's code, messages and schemaPath, and a
 * one-line summary of the errors.
 */
export function verdictFor(op: ProvisionOperation): RowVerdict {
  const extensions = op.extensions ?? [];
  const failed: ExtensionFailure[] = extensions
    .filter((e) => !OK_RESULTS.has(e.status.result ?? (e.status.success === false ? 'error' : 'success')))
    .map((e) => ({ name: e.name, code: e.status.code, result: e.status.result, messages: cleanMessages(e.messages) }));
  const opMessages = cleanMessages(op.messages);
  const warnings = extensions.flatMap((e) =>
    cleanMessages(e.messages)
      .filter((m) => m.type === 'warning')
      .map((m) => `${shortUrn(e.name)}: ${m.message ?? m.code ?? ''}`),
  );
  if (failed.length === 0 && op.status.success !== false) {
    return { state: 'done', patch: warnings.length > 0 ? { warnings } : {} };
  }
  const errors = failed.filter((f) => f.result === 'error' || f.messages.some((m) => m.type === 'error'));
  if (errors.length === 0 && opMessages.length === 0 && op.status.code === CONCUR_TIMEOUT_CODE) {
    return {
      state: 'timed_out',
      patch: {
        error: 'Concur did not process the extensions before its provision timeout',
        code: CONCUR_TIMEOUT_CODE,
        extensions: failed,
      },
    };
  }
  const parts = errors.map((f) => {
    const msgs = f.messages
      .filter((m) => m.type !== 'warning')
      .map((m) => (m.schemaPath ? `${m.message ?? m.code} [${m.schemaPath}]` : (m.message ?? m.code)));
    return `${shortUrn(f.name)}: ${msgs.length > 0 ? msgs.join('; ') : `failed with code ${f.code ?? '?'}`}`;
  });
  if (opMessages.length > 0) parts.push(opMessages.map((m) => m.message ?? m.code).join('; '));
  if (parts.length === 0) {
    parts.push(
      failed.map((f) => `${shortUrn(f.name)}: ${f.result ?? 'failed'} (code ${f.code ?? '?'})`).join('; ') ||
        `operation failed with code ${op.status.code ?? '?'}`,
    );
  }
  const firstCode = errors.flatMap((f) => f.messages).find((m) => m.code !== undefined)?.code ?? op.status.code;
  return {
    state: 'extension_failed',
    patch: {
      error: parts.join(' | '),
      ...(firstCode === undefined ? {} : { code: firstCode }),
      extensions:
        opMessages.length > 0
          ? [...failed, { name: 'operation', code: op.status.code, result: 'error', messages: opMessages }]
          : failed,
      ...(warnings.length > 0 ? { warnings } : {}),
    },
  };
}

/**
 * The verdict on rows whose provision had no final status by STATUS_DEADLINE_MS: the status check
 * and the sweep both give it (docs/operations.md#status-checks-that-are-gone).
 */
export function timedOutVerdict(provisionId: string, deadlineMs: number, why?: string): RowVerdict {
  const within = deadlineMs >= 60_000 ? `${Math.round(deadlineMs / 60_000)} min` : `${deadlineMs} ms`;
  return {
    state: 'timed_out',
    patch: {
      error: `No final status from Concur for provision ${provisionId} within ${within} of submission${why ? ` (${why})` : ''}`,
      code: 'PROV_ERR_STATUS_TIMEOUT',
    },
  };
}

/**
 * Settles the provision's rows still waiting on it (`extension_submitted` with its provision id):
 * each by its verdict, or `fallback`; then forgets the provision. Safe to repeat and to race: the
 * ledger moves a row only out of `extension_submitted` with this provision id, so a row is settled
 * once. One round trip per drop (the rows' check, their moves and, with the last drop, forgetting
 * the provision, in one script); records are never read.
 */
export async function settleProvision(
  deps: {
    ledger: StatusLedger;
    store: Pick<ProvisionStore, 'forgetProvision'>;
  },
  p: ProvisionRecord,
  verdicts: Map<string, RowVerdict>,
  fallback: RowVerdict,
): Promise<Partial<Record<RowState, number>>> {
  const counts: Partial<Record<RowState, number>> = {};
  const drops = [...groupByDrop(p.entries)];
  if (drops.length === 0) await deps.store.forgetProvision(p.provisionId);
  for (const [i, [dropId, rows]] of drops.entries()) {
    const moves = rows.map((row) => {
      const v = verdicts.get(entryOf(dropId, row)) ?? fallback;
      return { row, to: v.state, patch: v.patch };
    });
    const results = await deps.ledger.settleProvisionRows(dropId, p.provisionId, moves, i === drops.length - 1);
    results.forEach((t, j) => {
      const to = moves[j]!.to;
      if (t.result === 'ok') counts[to] = (counts[to] ?? 0) + 1;
    });
  }
  return counts;
}
