import { basename } from 'node:path';
import { z } from 'zod';
import { ProvError, isProvError } from '../shared/errors.ts';
import { readSmallFile } from './safe-fs.ts';
import { jsonErrorMessage } from './sources/json.ts';
import { parseAsOf } from '../shared/mapping/validate.ts';

/**
 * A drop's completeness manifest: `FILE.manifest.json` beside the file, or `--expect-rows N
 * --sha256 H`. `rows` counts data rows (the header excluded); `sha256` is the hex digest of the
 * file's bytes; `asOf` is when the file's data is true (docs/safety.md#an-older-drop-never-undoes-a-newer-one).
 * Any may be left out; other keys (a generator, a timestamp) are ignored.
 */
export const manifestSchema = z
  .object({
    rows: z.number().int().min(0).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters')
      .transform((v) => v.toLowerCase())
      .optional(),
    /** When the file's data is true (ISO 8601): the as-of of every row without an `asOf` cell. */
    asOf: z
      .string()
      .transform((v, ctx) => {
        const parsed = parseAsOf(v.trim());
        if ('value' in parsed) return parsed.value;
        ctx.addIssue({ code: 'custom', message: parsed.reason });
        return z.NEVER;
      })
      .optional(),
  })
  .refine(
    (m) => m.rows !== undefined || m.sha256 !== undefined || m.asOf !== undefined,
    'a manifest needs "rows", "sha256" or "asOf"',
  );

export type Manifest = z.output<typeof manifestSchema>;

export const MANIFEST_SUFFIX = '.manifest.json';
/** A manifest is a few dozen bytes; anything bigger is not one. */
const MANIFEST_MAX_BYTES = 64 * 1024;

export function manifestPathFor(dropPath: string): string {
  return `${dropPath}${MANIFEST_SUFFIX}`;
}

/** Whether a file name is a manifest (the watch folder must not take it for a drop). */
export function isManifestFile(name: string): boolean {
  return name.endsWith(MANIFEST_SUFFIX);
}

/** Validates a manifest given on the command line or in code. */
export function parseManifest(value: unknown, source: string): Manifest {
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(manifest)'}: ${i.message}`).join('; ');
    throw new ProvError('PROV_ERR_INPUT', `${source}: invalid manifest: ${issues}`);
  }
  return parsed.data;
}

/**
 * Reads `FILE.manifest.json` when it exists; undefined when there is none. A broken one is an input
 * error whose message never quotes the file (it may not be a manifest at all). With `noFollow` a
 * manifest that is a symbolic link is refused without being read (the watch folder).
 */
export async function readManifestBeside(
  dropPath: string,
  options: { noFollow?: boolean } = {},
): Promise<Manifest | undefined> {
  const path = manifestPathFor(dropPath);
  let text: string | undefined;
  try {
    text = await readSmallFile(path, MANIFEST_MAX_BYTES, { noFollow: options.noFollow ?? false });
  } catch (err) {
    const why = isProvError(err) ? err.message.slice(basename(path).length + 2) : 'cannot be read';
    throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: the manifest ${why}`, { cause: err });
  }
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProvError('PROV_ERR_INPUT', `${basename(path)}: the manifest is not JSON (${jsonErrorMessage(err)})`, {
      cause: err,
    });
  }
  return parseManifest(json, basename(path));
}

/**
 * The completeness rule: throws PROV_ERR_INPUT naming the expected and actual values when the file
 * does not match its manifest. Pass `rows` only once the file has been read to its end.
 */
export function checkManifest(
  file: string,
  manifest: Manifest | undefined,
  actual: { sha256?: string; rows?: number },
): void {
  if (!manifest) return;
  if (manifest.sha256 !== undefined && actual.sha256 !== undefined && manifest.sha256 !== actual.sha256.toLowerCase()) {
    throw new ProvError(
      'PROV_ERR_INPUT',
      `${file}: checksum mismatch: the manifest expects sha256 ${manifest.sha256}, the file has ${actual.sha256}; nothing was sent`,
      {
        details: { expected: { sha256: manifest.sha256 }, actual: { sha256: actual.sha256 } },
      },
    );
  }
  if (manifest.rows !== undefined && actual.rows !== undefined && manifest.rows !== actual.rows) {
    const hint = actual.rows < manifest.rows ? ' (truncated?)' : '';
    throw new ProvError(
      'PROV_ERR_INPUT',
      `${file}: row count mismatch: the manifest expects ${manifest.rows} rows, the file has ${actual.rows}${hint}; nothing was sent`,
      {
        details: { expected: { rows: manifest.rows }, actual: { rows: actual.rows } },
      },
    );
  }
}
