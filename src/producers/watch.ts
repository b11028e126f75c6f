import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isProvError, ProvError } from '../shared/errors.ts';
import { DROP_ID_PATTERN } from '../shared/ledger/keys.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import { renderReport, reportRecords } from '../shared/ledger/report.ts';
import type { Logger } from '../shared/logger.ts';
import { printable } from '../shared/safe-text.ts';
import type { IngestOptions, IngestResult } from './ingest.ts';
import { isManifestFile, MANIFEST_SUFFIX } from './manifest.ts';
import { assertRealDirectory, createFile, inside, moveNoClobber, readSmallFile, replaceOwnFile } from './safe-fs.ts';
import { DONE_SUFFIX, isIgnored, safeName, unsafeNameReason, WATCH_DIRS, type WatchDir } from './watch-names.ts';

export interface WatchOptions {
  /** The watched directory; inbox/, processing/, archive/, rejected/ and reports/ are created in it. */
  dir: string;
  /** Poll interval (WATCH_POLL_MS). A file is complete once its size and mtime hold for one interval. */
  pollMs: number;
  /** Passed to every ingest. */
  ingest?: Omit<IngestOptions, 'path'>;
}

export interface WatchDeps {
  ingest: (options: IngestOptions) => Promise<IngestResult>;
  /** For the final report of an archived drop. */
  ledger: Ledger;
  log: Logger;
  now?: () => number;
}

/** The watcher's record of an archived drop: `reports/<archived>.drop.json`. */
export interface ArchiveSidecar {
  dropId: string;
  source: string;
  /** The data file's name in archive/ (informational: no path is ever derived from it). */
  archivedAs: string;
  status: string;
  rows: number;
  invalid: number;
  archivedAt: number;
  /** Set once the drop completed and the report was written (its name in reports/). */
  reportFile?: string;
  states?: Record<string, number>;
  /** Why the watcher stopped following the drop (`status: lost`). */
  reason?: string;
}

const sidecarSchema = z.object({
  dropId: z.string().regex(DROP_ID_PATTERN),
  source: z.string().max(1000),
  archivedAs: z.string().max(1000),
  status: z.string().max(40),
  rows: z.number(),
  invalid: z.number(),
  archivedAt: z.number(),
  reportFile: z.string().max(1000).optional(),
  states: z.record(z.string(), z.number()).optional(),
  reason: z.string().max(2000).optional(),
});

/** `reports/<archived>.drop.json`: drop id and summary of an archived file. */
export const SIDECAR_SUFFIX = '.drop.json';
/** `reports/<archived>.report.csv`: the drop's report, once it completed. */
export const REPORT_SUFFIX = '.report.csv';
/** `reports/<rejected>.reason.txt`: why a file was rejected. */
export const REASON_SUFFIX = '.reason.txt';
/** Crash counters of files being ingested: `reports/.attempts/<name>`. */
const ATTEMPTS_DIR = '.attempts';
/** A file that was being ingested when the watcher died this many times is quarantined. */
export const QUARANTINE_AFTER_CRASHES = 2;
const FINAL = new Set(['complete', 'cancelled', 'rejected']);
const RETRY_AFTER_MS = 5_000;
const SIDECAR_MAX_BYTES = 64 * 1024;
const REASON_MAX_CHARS = 1_500;

/**
 * The watch-folder producer (docs/operations.md#watch-folder). A file in inbox/ that is complete
 * (a `NAME.done` marker, or the same size and mtime on two polls) is moved to processing/,
 * ingested, then moved to archive/ as `<dropId>__NAME` or to rejected/. Everything the watcher
 * writes itself (sidecars, reports, reasons, crash counters) lives in reports/, where no data file
 * is ever moved, and no path is derived from a file's content. Nothing is overwritten: a name that
 * is taken gets a unique one. No read, write or move follows a symbolic link (docs/security.md).
 * Files found in processing/ are resumed; since the drop id derives from the content, a file
 * ingested before a crash is recognised, not ingested twice; a file the watcher died on twice is
 * quarantined to rejected/.
 */
export class DropWatcher {
  private readonly o: WatchOptions;
  private readonly deps: WatchDeps;
  private root = '';
  private readonly seen = new Map<string, { size: number; mtimeMs: number }>();
  private readonly retryAt = new Map<string, number>();
  /** Sidecars that need nothing more (report written, lost, or not a sidecar at all). */
  private readonly settled = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private fsWatcher: FSWatcher | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(options: WatchOptions, deps: WatchDeps) {
    this.o = options;
    this.deps = deps;
  }

  private folder(sub: WatchDir): string {
    return join(this.root, sub);
  }

  private get attemptsDir(): string {
    return join(this.root, 'reports', ATTEMPTS_DIR);
  }

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /**
   * Creates the folders, resumes processing/, then polls (and listens to fs.watch) until stop().
   * Throws PROV_ERR_CONFIG when a sub-folder is a symbolic link or not a directory.
   */
  async start(): Promise<void> {
    // The watched directory itself may be reached through a link; its sub-folders may not.
    await mkdir(this.o.dir, { recursive: true });
    this.root = await realpath(this.o.dir);
    for (const sub of WATCH_DIRS) await mkdir(this.folder(sub), { recursive: true });
    await mkdir(this.attemptsDir, { recursive: true });
    await this.checkFolders();
    await this.scan();
    this.timer = setInterval(() => void this.scan(), this.o.pollMs);
    try {
      // A hint only: it makes `.done` markers act at once. Polling stays the source of truth.
      this.fsWatcher = fsWatch(this.folder('inbox'), () => void this.scan());
      this.fsWatcher.on('error', (err) => this.deps.log.warn({ err }, 'fs.watch failed; polling only'));
    } catch (err) {
      this.deps.log.warn({ err }, 'fs.watch unavailable; polling only');
    }
    this.deps.log.info({ dir: this.root, pollMs: this.o.pollMs }, 'watching inbox');
  }

  /** Stops polling and waits for the file being handled to finish. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.fsWatcher?.close();
    await this.scanning;
  }

  /** One pass over processing/, inbox/ and pending reports. Never overlaps itself; never throws. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch (err) {
          this.deps.log.error({ err }, 'watch pass failed');
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /** Every sub-folder must be a real directory, at start and before each pass (a link swapped in later). */
  private async checkFolders(): Promise<void> {
    for (const sub of WATCH_DIRS) await assertRealDirectory(this.folder(sub), `${this.root}/${sub}`);
    await assertRealDirectory(this.attemptsDir, `${this.root}/reports/${ATTEMPTS_DIR}`);
  }

  private async pass(): Promise<void> {
    await this.checkFolders();
    for (const name of await this.list('processing')) {
      if (this.stopped) return;
      if (isIgnored(name) || isManifestFile(name)) continue; // a manifest travels with its drop
      if ((this.retryAt.get(name) ?? 0) > this.now) continue;
      try {
        await this.process(name);
      } catch (err) {
        this.deps.log.error({ err, file: safeName(name) }, 'processing entry failed');
      }
    }
    const inbox = await this.list('inbox');
    const names = new Set(inbox);
    for (const name of inbox) {
      if (this.stopped) return;
      try {
        await this.consider(name, names);
      } catch (err) {
        this.deps.log.error({ err, file: safeName(name) }, 'inbox entry failed');
      }
    }
    for (const name of this.seen.keys()) if (!names.has(name)) this.seen.delete(name);
    await this.writeReports();
  }

  private async list(sub: WatchDir): Promise<string[]> {
    return (await readdir(this.folder(sub))).sort();
  }

  /** Why the manifest beside `name` cannot be used (a link, a folder...), if it is there. */
  private async manifestProblem(sub: WatchDir, name: string): Promise<string | undefined> {
    const st = await lstat(inside(this.folder(sub), `${name}${MANIFEST_SUFFIX}`)).catch(() => undefined);
    if (!st || st.isFile()) return undefined;
    return st.isSymbolicLink()
      ? 'refused: its manifest is a symbolic link (not followed)'
      : 'refused: its manifest is not a regular file';
  }

  private async consider(name: string, inbox: Set<string>): Promise<void> {
    const unsafe = unsafeNameReason(name);
    if (unsafe) return this.reject('inbox', name, `refused file name: ${unsafe}`);
    if (isIgnored(name) || isManifestFile(name)) return;
    const stat = await lstat(inside(this.folder('inbox'), name)).catch(() => undefined);
    if (!stat) return;
    if (stat.isSymbolicLink()) return this.reject('inbox', name, 'refused: symbolic links are not followed');
    if (!stat.isFile()) return this.reject('inbox', name, 'refused: not a regular file');
    const marker = inbox.has(`${name}${DONE_SUFFIX}`);
    const before = this.seen.get(name);
    this.seen.set(name, { size: stat.size, mtimeMs: stat.mtimeMs });
    const stable = before !== undefined && before.size === stat.size && before.mtimeMs === stat.mtimeMs;
    if (!marker && !stable) return;
    const manifest = await this.manifestProblem('inbox', name);
    if (manifest) return this.reject('inbox', name, manifest);
    // The manifest (FILE.manifest.json) goes along, so ingest checks the file against it.
    const placed = await moveNoClobber(this.folder('inbox'), name, this.folder('processing'), name, [MANIFEST_SUFFIX]);
    if (!placed) return; // another watcher took it
    this.seen.delete(name);
    if (marker) await rm(inside(this.folder('inbox'), `${name}${DONE_SUFFIX}`), { force: true });
    if (placed.renamed)
      this.deps.log.warn(
        { file: safeName(name), as: placed.name },
        'a file of that name is already in processing/; stored under a unique name (nothing is overwritten)',
      );
    await this.process(placed.name);
  }

  /** Ingests processing/NAME and moves it on. A transient failure (Redis) leaves it for a retry. */
  private async process(name: string): Promise<void> {
    const log = this.deps.log.child({ file: safeName(name) });
    const unsafe = unsafeNameReason(name);
    if (unsafe) return this.reject('processing', name, `refused file name: ${unsafe}`);
    const path = inside(this.folder('processing'), name);
    const stat = await lstat(path).catch(() => undefined);
    if (!stat) return;
    if (stat.isSymbolicLink()) return this.reject('processing', name, 'refused: symbolic links are not followed');
    if (!stat.isFile()) return this.reject('processing', name, 'refused: not a regular file');
    const manifest = await this.manifestProblem('processing', name);
    if (manifest) return this.reject('processing', name, manifest);
    const crashes = await this.attempts(name);
    if (crashes >= QUARANTINE_AFTER_CRASHES) {
      log.error({ crashes }, 'the watcher died twice while ingesting this file; quarantined to rejected/');
      await this.reject(
        'processing',
        name,
        `quarantined: the watcher stopped ${crashes} times while ingesting this file (a crash, or out of memory?); ` +
          'it is not retried. Check the file, then drop it again.',
      );
      await this.clearAttempts(name);
      return;
    }
    // Counted before and cleared after: only a death in between leaves the count raised.
    await replaceOwnFile(this.attemptsDir, name, String(crashes + 1));
    let result: IngestResult;
    try {
      result = await this.deps.ingest({ ...this.o.ingest, path, noFollow: true });
    } catch (err) {
      await this.clearAttempts(name);
      if (isProvError(err, 'PROV_ERR_INPUT')) return this.reject('processing', name, err.message, err);
      this.retryAt.set(name, this.now + RETRY_AFTER_MS);
      log.error({ err }, 'ingest failed; the file stays in processing/ and is retried');
      return;
    }
    await this.clearAttempts(name);
    this.retryAt.delete(name);
    const sidecar: ArchiveSidecar = {
      dropId: result.dropId,
      source: name,
      archivedAs: `${result.dropId}__${name}`,
      status: result.status,
      rows: result.rows,
      invalid: result.invalid,
      archivedAt: this.now,
    };
    // Sidecar first: a crash before the move leaves the file in processing/; the resumed ingest
    // finds this sidecar again (same drop, same source) instead of making a second one.
    const sidecarName = await this.writeSidecar(sidecar);
    const placed = await moveNoClobber(this.folder('processing'), name, this.folder('archive'), sidecar.archivedAs, [
      MANIFEST_SUFFIX,
    ]);
    if (!placed) return;
    if (placed.renamed) {
      await replaceOwnFile(this.folder('reports'), sidecarName, json({ ...sidecar, archivedAs: placed.name }));
      log.warn(
        { as: placed.name },
        'the archive name was taken; archived under a unique name (nothing is overwritten)',
      );
    }
    log.info(
      { dropId: result.dropId, rows: result.rows, invalid: result.invalid, existed: result.existed },
      'drop archived',
    );
  }

  /** Writes the sidecar (reusing one left for this drop and source by a crash); returns its name. */
  private async writeSidecar(sidecar: ArchiveSidecar): Promise<string> {
    const wanted = `${sidecar.archivedAs}${SIDECAR_SUFFIX}`;
    const existing = await this.readSidecar(wanted).catch(() => undefined);
    if (existing?.dropId === sidecar.dropId && existing.source === sidecar.source && !existing.reportFile) {
      await replaceOwnFile(this.folder('reports'), wanted, json(sidecar));
      return wanted;
    }
    return (await createFile(this.folder('reports'), sidecar.archivedAs, SIDECAR_SUFFIX, json(sidecar))).name;
  }

  private async attempts(name: string): Promise<number> {
    const text = await readSmallFile(inside(this.attemptsDir, name), 64).catch(() => undefined);
    const n = Number(text ?? 0);
    return Number.isInteger(n) && n > 0 ? n : 0;
  }

  private async clearAttempts(name: string): Promise<void> {
    await unlink(inside(this.attemptsDir, name)).catch(() => undefined);
  }

  /**
   * Moves the file (and its manifest) to rejected/ under a name of its own, and writes why to
   * reports/<name>.reason.txt: one line, clipped, control characters shown as escapes. The log
   * gets the file name and, for a file error, the error without cell values.
   */
  private async reject(from: 'inbox' | 'processing', name: string, reason: string, err?: unknown): Promise<void> {
    const placed = await moveNoClobber(this.folder(from), name, this.folder('rejected'), safeName(name), [
      MANIFEST_SUFFIX,
    ]);
    if (from === 'inbox') await rm(inside(this.folder('inbox'), `${name}${DONE_SUFFIX}`), { force: true });
    if (!placed) return;
    const reasonFile = await createFile(
      this.folder('reports'),
      placed.name,
      REASON_SUFFIX,
      `${printable(reason, REASON_MAX_CHARS)}\n`,
    );
    this.deps.log.warn(
      { file: placed.name, reasonFile: reasonFile.name, ...(err ? { err } : { reason }) },
      'file rejected',
    );
  }

  private async readSidecar(name: string): Promise<ArchiveSidecar> {
    const text = await readSmallFile(inside(this.folder('reports'), name), SIDECAR_MAX_BYTES);
    if (text === undefined) throw new ProvError('PROV_ERR_INPUT', `${name}: is gone`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ProvError('PROV_ERR_INPUT', `${name}: is not JSON`);
    }
    const parsed = sidecarSchema.safeParse(value);
    if (!parsed.success) throw new ProvError('PROV_ERR_INPUT', `${name}: is not a sidecar of this watcher`);
    return parsed.data;
  }

  /** Writes the report of archived drops that have completed since; one bad sidecar never stops the others. */
  private async writeReports(): Promise<void> {
    for (const name of await this.list('reports')) {
      if (this.stopped) return;
      if (!name.endsWith(SIDECAR_SUFFIX) || isIgnored(name) || this.settled.has(name)) continue;
      try {
        await this.reportOne(name);
      } catch (err) {
        if (isProvError(err, 'PROV_ERR_INPUT')) {
          // Not ours, or broken for good: say so once.
          this.settled.add(name);
          this.deps.log.warn({ file: safeName(name), err }, 'not a usable sidecar; skipped');
        } else {
          this.deps.log.error({ file: safeName(name), err }, 'report not written yet; retried on the next pass');
        }
      }
    }
  }

  private async reportOne(name: string): Promise<void> {
    const sidecar = await this.readSidecar(name);
    if (sidecar.reportFile !== undefined || sidecar.status === 'lost') {
      this.settled.add(name);
      return;
    }
    const view = await this.deps.ledger.getDrop(sidecar.dropId);
    if (!view) {
      // The ledger no longer knows the drop: Redis lost its keys (a restart without persistence,
      // eviction) or it was pruned. Say so once, loudly, instead of waiting for it forever.
      const reason =
        'the ledger no longer has this drop: Redis lost its keys (a restart without persistence, or eviction?) ' +
        'or it was pruned; its rows are not followed any more. Check Redis durability (/readyz), then drop the file again.';
      await replaceOwnFile(this.folder('reports'), name, json({ ...sidecar, status: 'lost', reason }));
      this.settled.add(name);
      this.deps.log.error({ dropId: sidecar.dropId, sidecar: name }, 'drop lost: its keys are gone from Redis');
      return;
    }
    if (!FINAL.has(view.meta.status)) return;
    // The report's name derives from the sidecar's own name, never from its content.
    const report = await createFile(
      this.folder('reports'),
      name.slice(0, -SIDECAR_SUFFIX.length),
      REPORT_SUFFIX,
      renderReport(reportRecords(this.deps.ledger, sidecar.dropId), 'csv'),
    );
    const states: Record<string, number> = {};
    for (const [s, n] of Object.entries(view.counts)) if (n > 0) states[s] = n;
    await replaceOwnFile(
      this.folder('reports'),
      name,
      json({ ...sidecar, status: view.meta.status, reportFile: report.name, states }),
    );
    this.settled.add(name);
    this.deps.log.info({ dropId: sidecar.dropId, status: view.meta.status }, 'drop report written');
  }
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
