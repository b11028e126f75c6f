/*
 * Text from a drop file (header cells, values, file names) echoed back to a person: in a reason
 * file, an error message, a report or a terminal. It is clipped, and every character that could
 * act on a terminal or hide what the text says is shown as a visible `\u{…}` escape instead:
 * C0 and C1 controls (escape sequences, line breaks, tabs), DEL, bidirectional controls,
 * zero-width and other invisible format characters, line and paragraph separators, and the
 * halves of broken surrogate pairs. See docs/security.md.
 */

const UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Default length of an echoed value. */
export const ECHO_MAX_CHARS = 60;

function escapeChar(ch: string): string {
  return `\\u{${ch.charCodeAt(0).toString(16).toUpperCase()}}`;
}

/**
 * `value` made safe to show: at most `maxChars` characters of it (then `…`), with every unsafe
 * character replaced by its escape. Never longer than about 9 × `maxChars`.
 */
export function printable(value: string, maxChars = ECHO_MAX_CHARS): string {
  const clipped = value.length > maxChars;
  // Do not cut a surrogate pair in two (the half would be shown as broken).
  let end = clipped ? maxChars : value.length;
  if (clipped && /[\ud800-\udbff]/.test(value[end - 1] ?? '')) end -= 1;
  const head = value.slice(0, end).replace(UNSAFE, escapeChar);
  return clipped ? `${head}…` : head;
}

/** A value quoted for a message: `'…'`, clipped and made printable. */
export function echo(value: string, maxChars = ECHO_MAX_CHARS): string {
  return `'${printable(value, maxChars)}'`;
}

/** True when `value` holds a character `printable` would escape. */
export function hasUnsafeChars(value: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(value);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * A message for a terminal: every unsafe character shown as an escape except the line breaks that
 * separate its lines (an error message from anywhere, Concur's included, may quote anything).
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, (ch) => (ch === '\n' ? ch : escapeChar(ch)));
}

/**
 * JSON text (from JSON.stringify) for a terminal: the characters JSON leaves raw (C1 controls, bidi
 * and invisible ones, line separators) written as `\uXXXX` escapes, so the JSON stays the same value.
 */
export function jsonText(json: string): string {
  return json.replace(UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
