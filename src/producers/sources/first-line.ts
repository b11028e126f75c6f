/**
 * Reads text chunks until the first line is complete (or `maxChars` passed), so a reader can look
 * at it (delimiter, record type) before parsing; `rest()` then yields the whole text, first line
 * included, and stops pulling from the source when the consumer stops.
 */
export async function peekFirstLine(
  text: AsyncIterable<string>,
  maxChars: number,
): Promise<{ firstLine: string; rest: () => AsyncGenerator<string> }> {
  const upstream = text[Symbol.asyncIterator]();
  let prefix = '';
  let exhausted = false;
  while (!prefix.includes('\n') && prefix.length <= maxChars) {
    const next = await upstream.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    prefix += next.value;
  }
  const firstLine = prefix.slice(0, prefix.includes('\n') ? prefix.indexOf('\n') : prefix.length);
  async function* rest(): AsyncGenerator<string> {
    if (prefix !== '') yield prefix;
    if (!exhausted) {
      // for-await calls upstream.return() if we stop early, which closes the file.
      for await (const t of { [Symbol.asyncIterator]: () => upstream }) yield t;
    }
  }
  return { firstLine, rest };
}
