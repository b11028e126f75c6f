/**
 * Text encodings a drop may be read in (docs/template.md#encodings). `auto`: UTF-8 with or without
 * a BOM, or UTF-16 with a BOM. `windows-1252` and `latin1` (an ISO-8859-1 export) are read the same
 * way, as WHATWG's TextDecoder does: Windows-1252 is Latin-1 with printable characters in 0x80–0x9F.
 * Given by `--encoding`, by `encoding` in the mapping file or in FILE.manifest.json.
 */
export const DROP_ENCODINGS = ['auto', 'utf-8', 'utf-16le', 'utf-16be', 'windows-1252', 'latin1'] as const;
export type DropEncoding = (typeof DROP_ENCODINGS)[number];
