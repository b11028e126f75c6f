import { isProvError, ProvError, type ErrorCode } from '../shared/errors.ts';
import type { DropBatch } from './drop-batches.ts';

/*
 * The messages between an ingest and its parse worker (parse-thread.ts, parse-worker.ts), and how
 * an error crosses between them: a thread boundary keeps only plain data, so a ProvError is sent as
 * its fields and made again on the other side (same code, message and details).
 */

/** Worker → ingest: the next batch of rows (the last one has `end`), or why reading stopped. */
export type FromParseWorker = { type: 'batch'; batch: DropBatch } | { type: 'error'; error: SentError };

/**
 * Ingest → worker: `ack` when it took a batch (the worker may read one more ahead) with the ledger's
 * duplicates so far (they count towards MAX_INVALID_PERCENT); `stop` to end the read early.
 */
export type ToParseWorker = { type: 'ack'; duplicates: number } | { type: 'stop' };

/** Batches the worker may read ahead of the ingest: enough to keep both threads busy, few enough to bound memory. */
export const BATCHES_AHEAD = 4;

export interface SentError {
  name: string;
  message: string;
  stack?: string;
  /** A ProvError's fields. */
  prov?: { code: ErrorCode; retryable: boolean; statusCode?: number; details: Record<string, unknown> };
  /** An errno or library code (ENOENT, CSV_...), kept on a plain error. */
  code?: string;
  cause?: SentError;
}

export function sendError(err: unknown): SentError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: err.message,
    ...(err.stack ? { stack: err.stack } : {}),
    ...(isProvError(err)
      ? {
          prov: {
            code: err.code,
            retryable: err.retryable,
            ...(err.statusCode === undefined ? {} : { statusCode: err.statusCode }),
            details: err.details,
          },
        }
      : typeof code === 'string'
        ? { code }
        : {}),
    ...(err.cause === undefined ? {} : { cause: sendError(err.cause) }),
  };
}

export function receivedError(sent: SentError): Error {
  const cause = sent.cause ? receivedError(sent.cause) : undefined;
  const err = sent.prov
    ? new ProvError(sent.prov.code, sent.message, {
        retryable: sent.prov.retryable,
        ...(sent.prov.statusCode === undefined ? {} : { statusCode: sent.prov.statusCode }),
        details: sent.prov.details,
        ...(cause ? { cause } : {}),
      })
    : Object.assign(new Error(sent.message, cause ? { cause } : undefined), {
        name: sent.name,
        ...(sent.code ? { code: sent.code } : {}),
      });
  // Where it was thrown (in the worker), not where it was made again.
  if (sent.stack) err.stack = sent.stack;
  return err;
}
