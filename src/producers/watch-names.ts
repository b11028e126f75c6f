/**
 * Sub-folders of a watched directory: four for data files, and reports/ for everything the
 * watcher writes itself (no data file is ever moved there).
 */
export const WATCH_DIRS = ['inbox', 'processing', 'archive', 'rejected', 'reports'] as const;
export type WatchDir = (typeof WATCH_DIRS)[number];

/** A `NAME.done` marker says NAME is complete (no need to wait for a stable size). */
export const DONE_SUFFIX = '.done';

/**
 * Why a directory entry's name is refused, or undefined when it is a plain file name. The entry
 * comes from readdir, so it cannot hold a `/`; the checks still cover every trick a name can
 * play when later joined to a path or shown to an operator.
 */
export function unsafeNameReason(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'empty or dot name';
  if (name.includes('/') || name.includes('\\')) return 'name contains a path separator';
  if (name.includes('..')) return 'name contains ".."';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'name contains control characters';
  if (Buffer.byteLength(name) > 200) return 'name is too long';
  return undefined;
}

/** A printable stand-in for a refused name (for the rejected/ folder and the logs). */
export function safeName(name: string): string {
  const cleaned = name
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f/\\]/g, '_')
    .replace(/\.\.+/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 120);
  return cleaned === '' ? 'unnamed' : cleaned;
}

/** Files the watcher leaves alone: hidden (editors, rsync and scp write temp files as .name) and markers. */
export function isIgnored(name: string): boolean {
  return name.startsWith('.') || name.endsWith(DONE_SUFFIX);
}
