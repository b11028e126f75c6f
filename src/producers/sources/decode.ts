import type { ReadStream } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { TextDecoder } from 'node:util';
import type { DropEncoding } from '../../shared/mapping/encodings.ts';
import { openReadStream } from '../safe-fs.ts';
import { inputError, readProblem } from './errors.ts';

/*
 * Bytes → text, one chunk at a time: BOM sniffing, strict decoding (a bad byte is a file-level
 * error naming the line, never a silent U+FFFD), NUL rejection, and the file's sha256 and size
 * computed on the way through.
 */

export type SourceEncoding = DropEncoding;

export class ByteStats {
  bytes = 0;
  readonly hash: Hash = createHash('sha256');
  /** The encoding actually used (after BOM detection). */
  encoding: Exclude<SourceEncoding, 'auto'> = 'utf-8';
  bom = false;
  private digest: string | undefined;

  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

interface ChunkDecoder {
  decode(bytes: Buffer, line: number): string;
  end(line: number): string;
}

const LF = 0x0a;

class Utf8Decoder implements ChunkDecoder {
  private carry: Buffer | undefined;
  constructor(private readonly file: string) {}

  decode(bytes: Buffer, line: number): string {
    const data = this.carry ? Buffer.concat([this.carry, bytes]) : bytes;
    const cut = completeUtf8Length(data);
    this.carry = cut < data.length ? Buffer.from(data.subarray(cut)) : undefined;
    const part = data.subarray(0, cut);
    if (!isUtf8(part)) {
      const at = firstInvalidUtf8(part);
      throw inputError(this.file, 'is not valid UTF-8 (save it as UTF-8, or UTF-16 with a byte order mark)', {
        line: line + countByte(part, LF, at),
      });
    }
    return part.toString('utf8');
  }

  end(line: number): string {
    if (this.carry) throw inputError(this.file, 'ends in the middle of a UTF-8 character (truncated file?)', { line });
    return '';
  }
}

class TextDecoderAdapter implements ChunkDecoder {
  private readonly decoder: TextDecoder;
  constructor(
    private readonly file: string,
    private readonly label: string,
  ) {
    this.decoder = new TextDecoder(label, { fatal: true });
  }

  decode(bytes: Buffer, line: number): string {
    try {
      return this.decoder.decode(bytes, { stream: true });
    } catch (err) {
      throw inputError(this.file, `is not valid ${this.label.toUpperCase()}`, { line, cause: err });
    }
  }

  end(line: number): string {
    try {
      return this.decoder.decode();
    } catch (err) {
      throw inputError(this.file, `ends in the middle of a ${this.label.toUpperCase()} character (truncated file?)`, {
        line,
        cause: err,
      });
    }
  }
}

/** Length of the prefix of `data` that holds only whole UTF-8 sequences (the rest waits for more bytes). */
function completeUtf8Length(data: Buffer): number {
  const n = data.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = data[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (only on the error path). */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const len = b < 0x80 ? 1 : b >> 5 === 0b110 ? 2 : b >> 4 === 0b1110 ? 3 : b >> 3 === 0b11110 ? 4 : 0;
    if (len === 0 || !isUtf8(buf.subarray(i, i + len))) return i;
    i += len;
  }
  return buf.length;
}

function countByte(buf: Buffer, byte: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte); i !== -1 && i < end; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** UTF-16 text without a BOM shows NULs in every other byte of ASCII-heavy content. */
function looksLikeBomlessUtf16(head: Buffer): boolean {
  const n = Math.min(head.length, 1024) & ~1;
  if (n < 4) return false;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) even++;
    if (head[i + 1] === 0) odd++;
  }
  const pairs = n / 2;
  const high = Math.max(even, odd);
  const low = Math.min(even, odd);
  return high > pairs / 4 && low * 8 < high;
}

function pickDecoder(
  file: string,
  head: Buffer,
  wanted: SourceEncoding,
  stats: ByteStats,
): { decoder: ChunkDecoder; skip: number } {
  const bom8 = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const bomLE = head.length >= 2 && head[0] === 0xff && head[1] === 0xfe;
  const bomBE = head.length >= 2 && head[0] === 0xfe && head[1] === 0xff;
  let encoding: Exclude<SourceEncoding, 'auto'>;
  if (wanted === 'auto') {
    if (bomLE) encoding = 'utf-16le';
    else if (bomBE) encoding = 'utf-16be';
    else if (looksLikeBomlessUtf16(head)) {
      throw inputError(file, 'looks like UTF-16 without a byte order mark; save it as UTF-8, or UTF-16 with a BOM', {
        line: 1,
      });
    } else encoding = 'utf-8';
  } else encoding = wanted;
  stats.encoding = encoding;
  if (encoding === 'utf-8') {
    stats.bom = bom8;
    return { decoder: new Utf8Decoder(file), skip: bom8 ? 3 : 0 };
  }
  if (encoding === 'utf-16le' || encoding === 'utf-16be') {
    // TextDecoder consumes a matching BOM itself (ignoreBOM defaults to false).
    stats.bom = encoding === 'utf-16le' ? bomLE : bomBE;
  }
  return { decoder: new TextDecoderAdapter(file, encoding), skip: 0 };
}

export interface DecodeOptions {
  encoding: SourceEncoding;
  highWaterMark: number;
  /** Open with O_NOFOLLOW: a symbolic link is an error, never read through. */
  noFollow?: boolean;
}

/**
 * Streams `path` as decoded text chunks. Pulling is lazy: a chunk is read only when the consumer
 * asks for the next one, which is what gives the whole reader backpressure.
 */
export async function* decodeFile(path: string, options: DecodeOptions, stats: ByteStats): AsyncGenerator<string> {
  let decoder: ChunkDecoder | undefined;
  let head: Buffer | undefined;
  let line = 1;

  const emit = (text: string): string => {
    const nul = text.indexOf('\u0000');
    if (nul !== -1)
      throw inputError(path, 'contains a NUL character (a binary file, or the wrong encoding?)', {
        line: line + countNewlines(text.slice(0, nul)),
      });
    line += countNewlines(text);
    return text;
  };

  let stream: ReadStream | undefined;
  try {
    stream = await openReadStream(path, options);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      stats.hash.update(chunk);
      stats.bytes += chunk.length;
      let bytes = chunk;
      if (decoder === undefined) {
        // Wait for 4 bytes before deciding on the encoding (a tiny first chunk could split a BOM).
        head = head ? Buffer.concat([head, chunk]) : chunk;
        if (head.length < 4) continue;
        const picked = pickDecoder(path, head, options.encoding, stats);
        decoder = picked.decoder;
        bytes = head.subarray(picked.skip);
        head = undefined;
      }
      const text = decoder.decode(bytes, line);
      if (text !== '') yield emit(text);
    }
    if (decoder === undefined) {
      if (head === undefined || head.length === 0) return;
      const picked = pickDecoder(path, head, options.encoding, stats);
      decoder = picked.decoder;
      const text = decoder.decode(head.subarray(picked.skip), line);
      if (text !== '') yield emit(text);
    }
    const tail = decoder.end(line);
    if (tail !== '') yield emit(tail);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'PROV_ERR_INPUT') throw err;
    throw inputError(path, readProblem(err), { cause: err });
  } finally {
    stream?.destroy();
  }
}
