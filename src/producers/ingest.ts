import { createHash, randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import type { Queue } from 'bullmq';
import { isProvError, ProvError } from '../shared/errors.ts';
import { DEFAULT_GUARDS, deactivationHoldReason, type GuardLimits } from '../shared/guards/limits.ts';
import { runPlannedDrop } from '../shared/guards/drop-control.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import type { DropStatus } from '../shared/ledger/states.ts';
import type { Logger } from '../shared/logger.ts';
import { loadMappingFile, mappingFingerprint } from '../shared/mapping/mapping-file.ts';
import { activeTraceparent, ATTR, DROP_TRACE_FIELD, withSpan } from '../shared/telemetry/spans.ts';
import { enqueueIdentityChunks, identityChunks } from '../shared/queues/identity.ts';
import { readDropBatches, type DropBatch, type DropBatchEnd, type DropBatchParams } from './drop-batches.ts';
import { checkManifest, readManifestBeside, type Manifest } from './manifest.ts';
import { detectDropFormat, hashFile, type DropFormat, type SourceEncoding } from './sources/index.ts';

export interface IngestOptions {
  path: string;
  mappingPath?: string;
  format?: DropFormat;
  delimiter?: ',' | ';' | '\t' | '|';
  /** Default `auto` (UTF-8 with or without BOM, UTF-16 with BOM); `windows-1252` only when asked. */
  encoding?: SourceEncoding;
  /** Make a new drop even if this file (with this mapping) was ingested before. */
  force?: boolean;
  /** Refuse the file (and its manifest) when the path is a symbolic link (the watch folder). */
  noFollow?: boolean;
  /** Rows written to the ledger per round trip. */
  ledgerBatchRows?: number;
  /** Rows read so far, after each batch written to the ledger (the CLI's progress line). */
  onProgress?: (rowsRead: number) => void;
  /** `ingest --plan`: rows planned so far, after each look-up batch. */
  onPlanProgress?: (rowsPlanned: number) => void;
  /**
   * Record the drop as `planned` and enqueue nothing (`ingest --plan`). A later ingest of the same
   * file (or `provision approve`) runs it from the ledger without reading the file again.
   */
  plan?: boolean;
  /**
   * Completeness check (`--expect-rows`, `--sha256`). Without it `FILE.manifest.json` beside the
   * file is used when present. A mismatch rejects the drop before any row is sent.
   */
  expect?: Manifest;
}

export interface IngestDeps {
  ledger: Ledger;
  identityQueue: Queue;
  log: Logger;
  now?: () => number;
  /** Deactivation threshold (default: the env schema's defaults). */
  guards?: GuardLimits;
}

export interface IngestResult {
  dropId: string;
  /** True when this file had been ingested before: nothing new was done. */
  existed: boolean;
  status: DropStatus;
  rows: number;
  invalid: number;
  jobs: number;
  /** Why the drop is held (status `held`). */
  reason?: string;
  /** Drop-wide warnings from the file (e.g. an employee import's ignored passwords). */
  warnings?: string[];
}

/**
 * A drop's id derives from its bytes and its mapping, so the same file twice is the same drop.
 * 16 hex characters (64 bits) keep keys and bulkIds short; `--force` salts it.
 */
export function dropIdFor(fileSha256: string, mappingSha256: string, salt = ''): string {
  return createHash('sha256').update(`${fileSha256}:${mappingSha256}:${salt}`).digest('hex').slice(0, 16);
}

/**
 * Reads a drop file into the ledger and the identity queue. Rows are streamed (bounded memory:
 * only the current group of rows for the ledger and the row numbers of the valid rows are held), validated and
 * recorded as they come; identity jobs are enqueued only once the whole file has been read, so a
 * file that turns out broken half-way is rejected before anything is sent to Concur.
 */
export async function ingestDrop(deps: IngestDeps, options: IngestOptions): Promise<IngestResult> {
  // The drop's ingest span: every later job span of its rows links to it (docs/operations.md#traces).
  return withSpan('provision.ingest', async (span) => {
    const result = await readDrop(deps, options);
    span.setAttributes({
      [ATTR.dropId]: result.dropId,
      [ATTR.dropRows]: result.rows,
      [ATTR.dropStatus]: result.status,
    });
    return result;
  });
}

async function readDrop(deps: IngestDeps, options: IngestOptions): Promise<IngestResult> {
  const now = deps.now ?? Date.now;
  const noFollow = options.noFollow === true;
  const format = await detectDropFormat(options.path, options.format, { noFollow });
  if (!format)
    throw new ProvError(
      'PROV_ERR_INPUT',
      `${options.path}: cannot tell the format from the file name; pass --format csv|json|ndjson|employee-import`,
    );
  const mapping = options.mappingPath ? await loadMappingFile(options.mappingPath) : undefined;
  const mappingSha256 = mappingFingerprint(mapping);
  // --expect-rows / --sha256 replace FILE.manifest.json entirely.
  const expected = options.expect ?? (await readManifestBeside(options.path, { noFollow }));
  const encoding = options.encoding ?? expected?.encoding ?? mapping?.encoding;
  const guards = deps.guards ?? DEFAULT_GUARDS;
  const fileSha256 = await hashFile(options.path, { noFollow });
  const dropId = dropIdFor(fileSha256, mappingSha256, options.force ? randomUUID() : '');
  const file = basename(options.path);
  const log = deps.log.child({ dropId });

  const createdAt = now();
  const created = await deps.ledger.createDrop({
    id: dropId,
    file,
    sha256: fileSha256,
    format,
    createdAt,
    mappingSha256,
  });
  if (!created) {
    const view = await deps.ledger.getDrop(dropId);
    if (view?.meta.status === 'rejected' && (await deps.ledger.reopenRejected(dropId, now()))) {
      // Same bytes, but the reason may be gone (a corrected manifest): read it again.
      log.info('ingesting a drop that was rejected before');
    } else if (view?.meta.status === 'planned') {
      checkManifest(file, expected, { sha256: fileSha256, rows: view.meta.rows });
      const result = {
        dropId,
        existed: true,
        status: view.meta.status,
        rows: view.meta.rows ?? 0,
        invalid: view.counts.invalid ?? 0,
        jobs: 0,
      };
      // The plan recorded every row: running it needs no second read of the file.
      return options.plan
        ? result
        : {
            ...(await runPlanned(deps, dropId, view.meta.rows ?? 0, guards)),
            invalid: result.invalid,
          };
    } else if (view && view.meta.status !== 'ingesting') {
      log.info({ status: view.meta.status }, 'drop already ingested; nothing new to do');
      return {
        dropId,
        existed: true,
        status: view.meta.status,
        rows: view.meta.rows ?? 0,
        invalid: view.counts.invalid ?? 0,
        jobs: 0,
      };
    } else {
      log.warn('resuming an ingest that did not finish');
    }
  }

  // Rows without an asOf cell are as of the manifest's asOf, else the drop's creation (a resumed
  // ingest keeps the first one): docs/safety.md#an-older-drop-never-undoes-a-newer-one.
  const dropAsOf =
    expected?.asOf ?? (created ? createdAt : Number((await deps.ledger.getDrop(dropId))?.meta.createdAt ?? createdAt));
  const params: DropBatchParams = {
    path: options.path,
    file,
    format,
    noFollow,
    ...(options.delimiter ? { delimiter: options.delimiter } : {}),
    // --encoding, then the manifest's, then the mapping file's (docs/template.md#encodings).
    ...(encoding ? { encoding } : {}),
    ...(mapping ? { mapping } : {}),
    createdAt,
    dropAsOf,
    batchRows: options.ledgerBatchRows ?? 500,
    guards,
  };
  // In-drop duplicates are found by the ledger (in Redis) as rows are recorded: only the numbers
  // of the valid rows stay in this process (4 bytes each), cut into identity jobs at the end.
  const duplicateRows = new Set<number>();
  let inactiveDuplicates = 0;
  const validRows = new RowNumbers();
  // The counts of the file read so far (the last batch's): the ledger's duplicates are added at the end.
  let read: Pick<DropBatch, 'rows' | 'invalid' | 'deactivations'> = { rows: 0, invalid: 0, deactivations: 0 };
  let end: DropBatchEnd | undefined;

  const record = async (batch: DropBatch): Promise<void> => {
    const { duplicates } = await deps.ledger.addEncodedRows(dropId, batch.encoded, file);
    for (const row of duplicates) {
      duplicateRows.add(row);
      if (batch.inactive.includes(row)) inactiveDuplicates += 1;
    }
    options.onProgress?.(batch.rows);
  };
  // Batches are written while the next ones are read (up to MAX_IN_FLIGHT at once, so the reader
  // does not sit idle while a busy Redis answers). They still reach Redis in file order (one
  // connection), so the first of two duplicates stays valid.
  const inFlight: Promise<void>[] = [];
  const awaitWrites = async (): Promise<void> => {
    while (inFlight.length > 0) await inFlight.shift();
  };

  try {
    checkManifest(file, expected, { sha256: fileSha256 });
    for await (const batch of readDropBatches(params, () => duplicateRows.size)) {
      read = batch;
      end = batch.end;
      for (const row of batch.valid) validRows.push(row);
      if (batch.encoded.length === 0) continue;
      const p = record(batch);
      // Handled here so a failure while the reader runs is not an unhandled rejection;
      // awaitWrites() still throws it.
      p.catch(() => undefined);
      inFlight.push(p);
      while (inFlight.length > MAX_IN_FLIGHT) await inFlight.shift();
    }
    await awaitWrites();
    checkManifest(file, expected, { rows: read.rows });
  } catch (err) {
    // Batches still being written must land before the drop is rejected (or the error passed on).
    await Promise.allSettled(inFlight);
    if (!isProvError(err, 'PROV_ERR_INPUT')) throw err;
    await deps.ledger.rejectDrop(dropId, err.message, now());
    log.info(
      { err },
      'drop rejected: the file could not be read to its end or does not match its manifest; nothing was sent',
    );
    throw err;
  }

  const { rows } = read;
  // The ledger's duplicates are invalid rows too, and a duplicate deactivates no one.
  const invalid = read.invalid + duplicateRows.size;
  const deactivations = read.deactivations - inactiveDuplicates;
  const warnings = end?.warnings;
  const errorThreshold = end?.errorThreshold;
  const traceparent = activeTraceparent();
  await deps.ledger.setDropFields(dropId, {
    deactivations,
    ...(traceparent ? { [DROP_TRACE_FIELD]: traceparent } : {}),
    ...(warnings ? { warnings: JSON.stringify(warnings) } : {}),
    // The failure brake also stops the drop past this many rows in error (docs/employee-import.md).
    ...(errorThreshold ? { errorThreshold } : {}),
  });
  if (warnings) log.warn({ warnings }, 'the drop file has warnings');
  const noted = warnings ? { warnings } : {};
  if (options.plan) {
    await deps.ledger.finishIngest(dropId, rows, 'planned', now());
    const view = await deps.ledger.getDrop(dropId);
    log.info({ rows, invalid }, 'drop recorded for a plan; nothing enqueued');
    return { dropId, existed: false, status: view?.meta.status ?? 'planned', rows, invalid, jobs: 0, ...noted };
  }
  // Too many deactivations: the whole drop waits for approve, so nothing of a wrong file is sent.
  const holdReason = deactivationHoldReason(rows, deactivations, guards);
  if (holdReason) {
    await deps.ledger.setDropFields(dropId, { reason: holdReason, heldAt: now() });
    await deps.ledger.finishIngest(dropId, rows, 'held', now());
    const view = await deps.ledger.getDrop(dropId);
    log.warn({ rows, deactivations, reason: holdReason }, 'drop held for approval');
    return {
      dropId,
      existed: false,
      status: view?.meta.status ?? 'held',
      rows,
      invalid,
      jobs: 0,
      reason: holdReason,
      ...noted,
    };
  }

  // Chunks are cut before duplicates leave them, so a resumed ingest makes the same job ids.
  const chunks = identityChunks(validRows);
  const jobs = await enqueueIdentityChunks(
    deps.identityQueue,
    dropId,
    duplicateRows.size === 0
      ? chunks
      : chunks.map((c) => c.filter((r) => !duplicateRows.has(r))).filter((c) => c.length > 0),
  );
  await deps.ledger.finishIngest(dropId, rows, 'running', now());
  const view = await deps.ledger.getDrop(dropId);
  log.info({ rows, invalid, jobs }, 'drop ingested');
  return { dropId, existed: false, status: view?.meta.status ?? 'running', rows, invalid, jobs, ...noted };
}

/** Runs a planned drop from its ledger rows (see runPlannedDrop); an ingest result for it. */
async function runPlanned(deps: IngestDeps, dropId: string, rows: number, guards: GuardLimits): Promise<IngestResult> {
  const run = await runPlannedDrop({ ...deps, guards }, dropId);
  return {
    dropId,
    existed: !run.changed,
    status: run.status,
    rows,
    invalid: 0,
    jobs: run.jobs,
    ...(run.reason ? { reason: run.reason } : {}),
  };
}

/** Ledger batches written at once while the file is read (more would only hold more memory). */
const MAX_IN_FLIGHT = 2;

/** Row numbers in read order, 4 bytes each (a 1M-row drop: 4 MB, where an array of numbers takes 8 MB or more). */
class RowNumbers {
  private list = new Uint32Array(1024);
  private size = 0;

  push(row: number): void {
    if (this.size === this.list.length) {
      const grown = new Uint32Array(this.list.length * 2);
      grown.set(this.list);
      this.list = grown;
    }
    this.list[this.size++] = row;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.size; i += 1) yield this.list[i]!;
  }
}
