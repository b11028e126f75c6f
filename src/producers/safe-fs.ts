import { randomBytes } from 'node:crypto';
import { constants, createReadStream, type ReadStream } from 'node:fs';
import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { ProvError } from '../shared/errors.ts';

/*
 * File operations of the watch folder that no planted link or name can divert (docs/security.md):
 * reads open with O_NOFOLLOW; every file the watcher writes starts as an O_EXCL temp file and
 * gets its final name through a hard link, which fails on any existing entry (link or not); moves
 * never replace an entry either. A name that is taken gets a unique one (`NAME~1.csv`).
 */

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Read flags that refuse a symbolic link in the last component (ELOOP). */
export const READ_NO_FOLLOW = O_RDONLY | O_NOFOLLOW;

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * A read stream of `path`; with `noFollow` the path is opened with O_NOFOLLOW, so a symbolic link
 * fails (ELOOP) instead of being read through.
 */
export async function openReadStream(
  path: string,
  options: { highWaterMark: number; noFollow?: boolean | undefined },
): Promise<ReadStream> {
  if (!options.noFollow) return createReadStream(path, { highWaterMark: options.highWaterMark });
  const handle = await open(path, READ_NO_FOLLOW);
  return handle.createReadStream({ highWaterMark: options.highWaterMark, autoClose: true });
}

/** `folder/name`, after checking that the name is one plain entry of that folder. */
export function inside(folder: string, name: string): string {
  const path = join(folder, name);
  if (
    name === '' ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\\') ||
    dirname(path) !== folder
  )
    throw new ProvError('PROV_ERR_INTERNAL', `refusing a path outside ${basename(folder)}/`);
  return path;
}

/** `people.csv`, 2 → `people~2.csv` (the extension stays, so the format is still known). */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name);
  const stem = ext === '' || ext === name ? name : name.slice(0, -ext.length);
  return `${stem}~${n}${ext}`;
}

/** Links `from` at `to`; false when `to` exists. Falls back to check-then-rename where hard links are not supported. */
async function linkNoClobber(from: string, to: string, move: boolean): Promise<boolean> {
  try {
    await link(from, to);
  } catch (err) {
    const c = code(err);
    if (c === 'EEXIST') return false;
    if (c !== 'EPERM' && c !== 'ENOTSUP' && c !== 'EOPNOTSUPP' && c !== 'ENOSYS' && c !== 'EMLINK') throw err;
    // No hard links here (some network and FUSE file systems): the next best, a check right before the rename.
    if (
      await lstat(to).then(
        () => true,
        () => false,
      )
    )
      return false;
    await rename(from, to);
    return true;
  }
  if (move) await unlink(from);
  return true;
}

export interface PlacedName {
  /** The name the file got. */
  name: string;
  /** True when the wanted name was taken and a numbered one was used. */
  renamed: boolean;
}

/**
 * Moves `fromFolder/name` to `toFolder`, as `wanted` or, when that (or a companion's name) is taken,
 * the first free `numberedName`. Companions (suffixes such as `.manifest.json`) present beside the
 * file travel with it under the file's new name. Never replaces anything; undefined when the file
 * is gone (another process took it).
 */
export async function moveNoClobber(
  fromFolder: string,
  name: string,
  toFolder: string,
  wanted: string,
  companions: readonly string[] = [],
): Promise<PlacedName | undefined> {
  const from = inside(fromFolder, name);
  const present: string[] = [];
  for (const suffix of companions)
    if (await lstat(inside(fromFolder, `${name}${suffix}`)).catch(() => undefined)) present.push(suffix);
  for (let n = 0; n < 10_000; n += 1) {
    const target = numberedName(wanted, n);
    // Companions first: if the file itself moved first, a crash could strand them.
    const placed: string[] = [];
    let free = true;
    for (const suffix of present) {
      if (await linkNoClobber(inside(fromFolder, `${name}${suffix}`), inside(toFolder, `${target}${suffix}`), false)) {
        placed.push(suffix);
      } else {
        free = false;
        break;
      }
    }
    if (free) {
      let moved: boolean;
      try {
        moved = await linkNoClobber(from, inside(toFolder, target), true);
      } catch (err) {
        if (code(err) !== 'ENOENT') throw err;
        for (const suffix of placed) await unlink(inside(toFolder, `${target}${suffix}`)).catch(() => undefined);
        return undefined;
      }
      if (moved) {
        for (const suffix of placed) await unlink(inside(fromFolder, `${name}${suffix}`)).catch(() => undefined);
        return { name: target, renamed: n > 0 };
      }
    }
    for (const suffix of placed) await unlink(inside(toFolder, `${target}${suffix}`)).catch(() => undefined);
  }
  throw new ProvError('PROV_ERR_INTERNAL', `no free name for ${wanted} in ${basename(toFolder)}/`);
}

/** An O_EXCL temp file in `folder` (hidden, so the watcher never takes it for anything). */
async function exclusiveTemp(folder: string): Promise<{ path: string; handle: FileHandle }> {
  const path = inside(folder, `.tmp-${randomBytes(8).toString('hex')}`);
  const handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  return { path, handle };
}

/**
 * Writes a new file `folder/<base><suffix>` (or the first free numbered `<base>~N<suffix>`) from
 * `content`, created exclusively: nothing existing is replaced or written through.
 */
export async function createFile(
  folder: string,
  base: string,
  suffix: string,
  content: string | AsyncIterable<string | Uint8Array>,
): Promise<PlacedName> {
  const tmp = await exclusiveTemp(folder);
  try {
    try {
      if (typeof content === 'string') await tmp.handle.writeFile(content);
      else
        for await (const chunk of content)
          await tmp.handle.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    } finally {
      await tmp.handle.close();
    }
    for (let n = 0; n < 10_000; n += 1) {
      const target = `${base}${n === 0 ? '' : `~${n}`}${suffix}`;
      if (await linkNoClobber(tmp.path, inside(folder, target), false)) return { name: target, renamed: n > 0 };
    }
    throw new ProvError('PROV_ERR_INTERNAL', `no free name for ${base}${suffix} in ${basename(folder)}/`);
  } finally {
    await unlink(tmp.path).catch(() => undefined);
  }
}

/**
 * Replaces the watcher's own file `folder/name` with `content`: an exclusive temp file renamed
 * over it (a rename replaces a planted link itself; it never writes through it).
 */
export async function replaceOwnFile(folder: string, name: string, content: string): Promise<void> {
  const tmp = await exclusiveTemp(folder);
  try {
    try {
      await tmp.handle.writeFile(content);
    } finally {
      await tmp.handle.close();
    }
    await rename(tmp.path, inside(folder, name));
  } catch (err) {
    await unlink(tmp.path).catch(() => undefined);
    throw err;
  }
}

/**
 * Reads a small regular file (by default without following a link); undefined when it does not
 * exist. Throws PROV_ERR_INPUT when it is a link, not a regular file, or larger than `maxBytes`.
 */
export async function readSmallFile(
  path: string,
  maxBytes: number,
  options: { noFollow?: boolean } = {},
): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, options.noFollow === false ? O_RDONLY : READ_NO_FOLLOW);
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    if (code(err) === 'ELOOP')
      throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: is a symbolic link; not followed`);
    throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: cannot be read (${code(err) ?? 'error'})`, {
      cause: err,
    });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: is not a regular file`);
    if (st.size > maxBytes)
      throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: is larger than ${maxBytes} bytes`);
    return await handle.readFile('utf8');
  } catch (err) {
    if (code(err) === 'EISDIR') throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: is not a regular file`);
    throw err;
  } finally {
    await handle.close();
  }
}

/** Throws PROV_ERR_CONFIG unless `path` is a real directory (not a link to one). */
export async function assertRealDirectory(path: string, label: string): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink())
    throw new ProvError('PROV_ERR_CONFIG', `${label} is a symbolic link; the watcher only works in real folders`);
  if (!st.isDirectory()) throw new ProvError('PROV_ERR_CONFIG', `${label} is not a directory`);
}
