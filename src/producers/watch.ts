import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { MANIFEST_SUFFIX, isManifestFile } from './manifest.ts';
import { lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProvError } from '../shared/errors.ts';
import type { Ledger } from '../shared/ledger/ledger.ts';
import { renderReport, reportRecords } from '../shared/ledger/report.ts';
import { FINISHED_STATUSES } from '../shared/ledger/states.ts';
import type { Logger } from '../shared/logger.ts';
import type { IngestOptions, IngestResult } from './ingest.ts';
import { DONE_SUFFIX, isIgnored, safeName, unsafeNameReason, WATCH_DIRS } from './watch-names.ts';

export interface WatchOptions {
  /** The watched directory; inbox/, processing/, archive/ and rejected/ are created in it. */
  dir: string;
  /** Poll interval (WATCH_POLL_MS). A file is complete once its size and mtime hold for one interval. */
  pollMs: number;
  /** Passed to every ingest. */
  ingest?: Omit<IngestOptions, 'path'>;
}

export interface WatchDeps {
  ingest: (options: IngestOptions) => Promise<IngestResult>;
  /** For the final report next to the archived file. */
  ledger: Ledger;
  log: Logger;
  now?: () => number;
}

/** The sidecar written next to an archived file (`<archived>.drop.json`). */
export interface ArchiveSidecar {
  dropId: string;
  source: string;
  archivedAs: string;
  status: string;
  rows: number;
  invalid: number;
  archivedAt: number;
  /** Set once the drop completed and `<archived>.report.csv` was written. */
  reportFile?: string;
  states?: Record<string, number>;
}

/** `<archived>.drop.json`: drop id and summary of an archived file. */
export const SIDECAR_SUFFIX = '.drop.json';
const RETRY_AFTER_MS = 5_000;

/**
 * The watch-folder producer. A file in inbox/ that is complete (a `NAME.done` marker, or the same
 * size and mtime on two polls) is moved to processing/, ingested, then moved to archive/ (renamed
 * `<dropId>__NAME`, with a `.drop.json` sidecar and, once the drop completes, a `.report.csv`) or to
 * rejected/ with `NAME.reason.txt`. Files found in processing/ are resumed; since the drop id
 * derives from the content, a file ingested before a crash is recognised, not ingested twice.
 * Symlinks, non-regular files and names with path tricks are rejected without being read.
 */
export class DropWatcher {
  private readonly o: WatchOptions;
  private readonly deps: WatchDeps;
  private readonly seen = new Map<string, { size: number; mtimeMs: number }>();
  private readonly retryAt = new Map<string, number>();
  /** Sidecars whose report is written (read once, then skipped). */
  private readonly reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private fsWatcher: FSWatcher | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(options: WatchOptions, deps: WatchDeps) {
    this.o = options;
    this.deps = deps;
  }

  private path(sub: (typeof WATCH_DIRS)[number], name = ''): string {
    return join(this.o.dir, sub, name);
  }

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Creates the folders, resumes processing/, then polls (and listens to fs.watch) until stop(). */
  async start(): Promise<void> {
    for (const sub of WATCH_DIRS) await mkdir(this.path(sub), { recursive: true });
    await this.scan();
    this.timer = setInterval(() => void this.scan(), this.o.pollMs);
    try {
      // A hint only: it makes `.done` markers act at once. Polling stays the source of truth.
      this.fsWatcher = fsWatch(this.path('inbox'), () => void this.scan());
      this.fsWatcher.on('error', (err) => this.deps.log.warn({ err }, 'fs.watch failed; polling only'));
    } catch (err) {
      this.deps.log.warn({ err }, 'fs.watch unavailable; polling only');
    }
    this.deps.log.info({ dir: this.o.dir, pollMs: this.o.pollMs }, 'watching inbox');
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

  private async pass(): Promise<void> {
    for (const name of await this.list('processing')) {
      if (this.stopped) return;
      if (isManifestFile(name)) continue; // travels with its drop
      if ((this.retryAt.get(name) ?? 0) > this.now) continue;
      await this.process(name);
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

  private async list(sub: (typeof WATCH_DIRS)[number]): Promise<string[]> {
    return (await readdir(this.path(sub))).sort();
  }

  private async consider(name: string, inbox: Set<string>): Promise<void> {
    const unsafe = unsafeNameReason(name);
    if (unsafe) return this.reject('inbox', name, `refused file name: ${unsafe}`);
    if (isIgnored(name) || isManifestFile(name)) return;
    const stat = await lstat(this.path('inbox', name)).catch(() => undefined);
    if (!stat) return;
    if (stat.isSymbolicLink()) return this.reject('inbox', name, 'refused: symbolic links are not followed');
    if (!stat.isFile()) return this.reject('inbox', name, 'refused: not a regular file');
    const marker = inbox.has(`${name}${DONE_SUFFIX}`);
    const before = this.seen.get(name);
    this.seen.set(name, { size: stat.size, mtimeMs: stat.mtimeMs });
    const stable = before !== undefined && before.size === stat.size && before.mtimeMs === stat.mtimeMs;
    if (!marker && !stable) return;
    try {
      await rename(this.path('inbox', name), this.path('processing', name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // another watcher took it
      throw err;
    }
    this.seen.delete(name);
    if (marker) await rm(this.path('inbox', `${name}${DONE_SUFFIX}`), { force: true });
    // The manifest (FILE.manifest.json) goes along, so ingest checks the file against it.
    await moveIfPresent(this.path('inbox', manifestName(name)), this.path('processing', manifestName(name)));
    await this.process(name);
  }

  /** Ingests processing/NAME and moves it on. A transient failure (Redis) leaves it for a retry. */
  private async process(name: string): Promise<void> {
    const log = this.deps.log.child({ file: safeName(name) });
    const unsafe = unsafeNameReason(name);
    if (unsafe) return this.reject('processing', name, `refused file name: ${unsafe}`);
    const path = this.path('processing', name);
    const stat = await lstat(path).catch(() => undefined);
    if (!stat) return;
    if (!stat.isFile() || stat.isSymbolicLink()) return this.reject('processing', name, 'refused: not a regular file');
    let result: IngestResult;
    try {
      result = await this.deps.ingest({ ...this.o.ingest, path });
    } catch (err) {
      if (isProvError(err, 'PROV_ERR_INPUT')) return this.reject('processing', name, err.message);
      this.retryAt.set(name, this.now + RETRY_AFTER_MS);
      log.error({ err }, 'ingest failed; the file stays in processing/ and is retried');
      return;
    }
    this.retryAt.delete(name);
    const archivedAs = `${result.dropId}__${name}`;
    const sidecar: ArchiveSidecar = {
      dropId: result.dropId,
      source: name,
      archivedAs,
      status: result.status,
      rows: result.rows,
      invalid: result.invalid,
      archivedAt: this.now,
    };
    // Sidecar first: a crash between the two steps leaves the file in processing/, resumed later.
    await writeJson(this.path('archive', `${archivedAs}${SIDECAR_SUFFIX}`), sidecar);
    await moveIfPresent(this.path('processing', manifestName(name)), this.path('archive', manifestName(archivedAs)));
    await rename(path, this.path('archive', archivedAs));
    log.info(
      { dropId: result.dropId, rows: result.rows, invalid: result.invalid, existed: result.existed },
      'drop archived',
    );
  }

  private async reject(from: 'inbox' | 'processing', name: string, reason: string): Promise<void> {
    let target = safeName(name);
    if (await exists(this.path('rejected', target))) target = `${this.now}-${target}`;
    await moveIfPresent(this.path(from, manifestName(name)), this.path('rejected', manifestName(target)));
    await rename(this.path(from, name), this.path('rejected', target));
    await writeFile(this.path('rejected', `${target}.reason.txt`), `${reason}\n`);
    if (from === 'inbox') await rm(this.path('inbox', `${name}${DONE_SUFFIX}`), { force: true });
    this.deps.log.warn({ file: target, reason }, 'file rejected');
  }

  /** Writes `<archived>.report.csv` for archived drops that have completed since. */
  private async writeReports(): Promise<void> {
    for (const name of await this.list('archive')) {
      if (!name.endsWith(SIDECAR_SUFFIX) || this.reported.has(name) || this.stopped) continue;
      const file = this.path('archive', name);
      let sidecar: ArchiveSidecar;
      try {
        sidecar = JSON.parse(await readFile(file, 'utf8')) as ArchiveSidecar;
      } catch {
        continue;
      }
      // An archived data file can end the same way; only our sidecars have these fields.
      if (typeof sidecar.dropId !== 'string' || typeof sidecar.archivedAs !== 'string' || sidecar.reportFile) {
        this.reported.add(name);
        continue;
      }
      const view = await this.deps.ledger.getDrop(sidecar.dropId);
      if (!view || !FINISHED_STATUSES.has(view.meta.status)) continue;
      const reportFile = `${sidecar.archivedAs}.report.csv`;
      const tmp = this.path('archive', `.${reportFile}.tmp`);
      const handle = await open(tmp, 'w');
      try {
        for await (const chunk of renderReport(reportRecords(this.deps.ledger, sidecar.dropId), 'csv'))
          await handle.write(chunk);
      } finally {
        await handle.close();
      }
      await rename(tmp, this.path('archive', reportFile));
      const states: Record<string, number> = {};
      for (const [s, n] of Object.entries(view.counts)) if (n > 0) states[s] = n;
      await writeJson(file, { ...sidecar, status: view.meta.status, reportFile, states });
      this.reported.add(name);
      this.deps.log.info({ dropId: sidecar.dropId, status: view.meta.status }, 'drop report written');
    }
  }
}

function manifestName(name: string): string {
  return `${name}${MANIFEST_SUFFIX}`;
}

/** Moves a file that may not exist (a drop's optional manifest). */
async function moveIfPresent(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}
