import type { TokenRefusal } from '../shared/concur/token-cache.ts';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { IngestOptions, IngestResult } from '../producers/ingest.ts';
import { isProvError } from '../shared/errors.ts';
import type { Ledger, DropView } from '../shared/ledger/ledger.ts';
import { dropProgress, type DropProgress } from '../shared/ledger/progress.ts';
import { lostDrop } from '../shared/ledger/lost.ts';
import type { RedisDurability } from '../shared/redis-durability.ts';
import { renderReport, reportRecords, type ReportRecord } from '../shared/ledger/report.ts';
import { isDropId } from '../shared/keys.ts';
import { FAILED_STATES, ROW_STATES } from '../shared/ledger/states.ts';
import type { Logger } from '../shared/logger.ts';
import type { RateApi, RateLimitView } from '../shared/rate/index.ts';

export interface DropsRouteDeps {
  ledger: Ledger;
  ingest: (options: IngestOptions) => Promise<IngestResult>;
  uploadMaxBytes: number;
  /** The Concur rate limiters in force (shown beside a drop: they set its pace). */
  rateLimits?: () => Promise<Record<RateApi, RateLimitView>>;
  log: Logger;
  /** Concur's refusal of our credentials: a running drop shows it as `concurPaused`. */
  tokenRefusal?: () => Promise<TokenRefusal | undefined>;
  /** Redis durability, named when a drop's keys are gone (docs/operations.md#redis-durability). */
  durability?: () => Promise<RedisDurability>;
}

export interface StageProgress {
  done: number;
  total: number;
}

/** What `GET /drops/:id` answers: progress plus a bar per stage and the stage timings. */
export interface DropDetail extends DropProgress {
  stages: { identity: StageProgress; extensions: StageProgress; settled: StageProgress };
  failed: number;
  timings: Record<string, number>;
}

/**
 * Stage bars from the O(1) counters. A row has passed a stage once it is in no state before the
 * stage's end (terminal rows have passed them all), so each bar only ever grows.
 */
export function dropDetail(view: DropView, now = Date.now()): DropDetail {
  const p = dropProgress(view, now);
  const c = view.counts;
  const total = p.rows ?? Object.values(c).reduce((a, b) => a + b, 0);
  const beforeIdentity = (c.pending ?? 0) + (c.manager_wait ?? 0);
  const beforeExtensions = beforeIdentity + (c.identity_done ?? 0) + (c.extension_batched ?? 0);
  const timings: Record<string, number> = {};
  for (const [key, value] of Object.entries(view.meta)) {
    if (key.endsWith('At') && typeof value === 'number' && Number.isFinite(value)) timings[key] = value;
  }
  return {
    ...p,
    stages: {
      identity: { done: Math.max(total - beforeIdentity, 0), total },
      extensions: { done: Math.max(total - beforeExtensions, 0), total },
      settled: { done: p.settled, total },
    },
    failed: FAILED_STATES.reduce((n, s) => n + (c[s] ?? 0), 0),
    timings,
  };
}

const FORMATS = new Set(['csv', 'json', 'ndjson', 'employee-import']);
const ENCODING_NAMES = new Set(['auto', 'utf-8', 'utf-16le', 'utf-16be', 'windows-1252']);
const DELIMITERS: Record<string, IngestOptions['delimiter']> = { ',': ',', ';': ';', tab: '\t', '\t': '\t', '|': '|' };
const CONTENT_TYPE_EXT: Record<string, string> = {
  'text/csv': '.csv',
  'application/json': '.json',
  'application/x-ndjson': '.ndjson',
  'application/ndjson': '.ndjson',
};

/** A safe file name for the temp copy: the basename's plain characters only. */
export function uploadName(requested: string | undefined, contentType: string | undefined): string {
  const base = (requested ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 120);
  if (clean !== '' && extname(clean) !== '') return clean;
  const ext = CONTENT_TYPE_EXT[(contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''] ?? '';
  return `${clean || 'upload'}${ext}`;
}

class TooLarge extends Error {}

function notFound(reply: FastifyReply, id: string): FastifyReply {
  return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no drop ${id}` } });
}

export function registerDropRoutes(app: FastifyInstance, deps: DropsRouteDeps): void {
  const { ledger } = deps;

  app.get<{ Querystring: { limit?: string } }>('/drops', async (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 50) || 50, 1), 500);
    const ids = await ledger.listDrops(limit);
    const views = await Promise.all(ids.map((id) => ledger.getDrop(id)));
    const now = Date.now();
    // Listed without their keys: Redis lost them; named, never skipped.
    const lost = ids.filter((_, i) => views[i] === undefined);
    return {
      drops: views.filter((v): v is DropView => v !== undefined).map((v) => dropDetail(v, now)),
      ...(lost.length > 0 ? { lost } : {}),
    };
  });

  app.get<{ Params: { id: string } }>('/drops/:id', async (request, reply) => {
    const { id } = request.params;
    const view = isDropId(id) ? await ledger.getDrop(id) : undefined;
    if (!view && isDropId(id)) {
      const lost = await lostDrop(ledger, id, deps.durability);
      // 410 when Redis still shows it existed; 404 when no trace is left (it may never have).
      return reply
        .code(lost.traces ? 410 : 404)
        .send({ error: { code: lost.traces ? 'DROP_LOST' : 'NOT_FOUND', message: lost.reason }, ...lost });
    }
    if (!view) return notFound(reply, id);
    const refusal = view.meta.status === 'running' ? await deps.tokenRefusal?.() : undefined;
    const [rateLimits, decisions] = await Promise.all([deps.rateLimits?.(), ledger.decisions(id)]);
    return {
      ...dropDetail(view),
      decisions,
      ...(refusal ? { concurPaused: refusal } : {}),
      ...(rateLimits ? { rateLimits } : {}),
    };
  });

  // Rows in the given states (the page's failed-rows table), first `limit` in row order.
  app.get<{ Params: { id: string }; Querystring: { states?: string; limit?: string } }>(
    '/drops/:id/rows',
    async (request, reply) => {
      const { id } = request.params;
      const view = isDropId(id) ? await ledger.getDrop(id) : undefined;
      if (!view) return notFound(reply, id);
      const wanted = (request.query.states ?? FAILED_STATES.join(','))
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = wanted.filter((s) => !(ROW_STATES as readonly string[]).includes(s));
      if (unknown.length > 0)
        return reply
          .code(400)
          .send({ error: { code: 'BAD_REQUEST', message: `unknown states: ${unknown.join(', ')}` } });
      const limit = Math.min(Math.max(Number(request.query.limit ?? 100) || 100, 1), 1000);
      const expected = wanted.reduce((n, s) => n + (view.counts[s] ?? 0), 0);
      const rows: ReportRecord[] = [];
      // Nothing to find: skip the scan (the page asks often while a drop runs).
      if (expected > 0) {
        for await (const record of reportRecords(ledger, id, new Set(wanted))) {
          rows.push(record);
          if (rows.length >= limit) break;
        }
      }
      return { rows, total: expected, truncated: expected > rows.length };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { format?: string } }>('/drops/:id/report', async (request, reply) => {
    const { id } = request.params;
    const format = request.query.format ?? 'csv';
    if (format !== 'csv' && format !== 'jsonl')
      return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'format must be csv or jsonl' } });
    const view = isDropId(id) ? await ledger.getDrop(id) : undefined;
    if (!view) return notFound(reply, id);
    void reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="report-${id}.${format}"`);
    // Streamed page by page: a 100k-row report never sits in memory.
    return reply.send(Readable.from(renderReport(reportRecords(ledger, id), format)));
  });

  // Upload: the raw body is the file (curl --data-binary @people.csv). Streamed to a temp file.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.post<{
      Querystring: { filename?: string; format?: string; delimiter?: string; encoding?: string; force?: string };
    }>('/drops', async (request, reply) => {
      const declared = Number(request.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > deps.uploadMaxBytes) {
        void reply.header('connection', 'close');
        return reply.code(413).send({
          error: { code: 'TOO_LARGE', message: `upload is larger than UPLOAD_MAX_BYTES (${deps.uploadMaxBytes})` },
        });
      }
      const q = request.query;
      if (q.format !== undefined && !FORMATS.has(q.format))
        return reply
          .code(400)
          .send({ error: { code: 'BAD_REQUEST', message: 'format must be csv, json, ndjson or employee-import' } });
      if (q.encoding !== undefined && !ENCODING_NAMES.has(q.encoding))
        return reply.code(400).send({
          error: { code: 'BAD_REQUEST', message: 'encoding must be auto, utf-8, utf-16le, utf-16be or windows-1252' },
        });
      const delimiter = q.delimiter === undefined ? undefined : DELIMITERS[q.delimiter];
      if (q.delimiter !== undefined && delimiter === undefined)
        return reply.code(400).send({ error: { code: 'BAD_REQUEST', message: 'delimiter must be one of , ; tab |' } });
      const headerName = request.headers['x-filename'];
      const name = uploadName(
        q.filename ?? (Array.isArray(headerName) ? headerName[0] : headerName),
        request.headers['content-type'],
      );
      const dir = await mkdtemp(join(tmpdir(), 'provision-upload-'));
      try {
        const path = join(dir, name);
        let bytes = 0;
        const limiter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            bytes += chunk.length;
            if (bytes > deps.uploadMaxBytes) cb(new TooLarge());
            else cb(null, chunk);
          },
        });
        try {
          await pipeline(request.raw, limiter, createWriteStream(path));
        } catch (err) {
          if (err instanceof TooLarge) {
            void reply.header('connection', 'close');
            return reply.code(413).send({
              error: {
                code: 'TOO_LARGE',
                message: `upload is larger than UPLOAD_MAX_BYTES (${deps.uploadMaxBytes})`,
              },
            });
          }
          throw err;
        }
        try {
          const result = await deps.ingest({
            path,
            ...(q.format ? { format: q.format as NonNullable<IngestOptions['format']> } : {}),
            ...(q.encoding ? { encoding: q.encoding as NonNullable<IngestOptions['encoding']> } : {}),
            ...(delimiter ? { delimiter } : {}),
            ...(q.force === 'true' || q.force === '1' ? { force: true } : {}),
          });
          return reply.code(result.existed ? 200 : 201).send(result);
        } catch (err) {
          if (isProvError(err, 'PROV_ERR_INPUT'))
            return reply.code(400).send({ error: { code: err.code, message: err.message } });
          throw err;
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
