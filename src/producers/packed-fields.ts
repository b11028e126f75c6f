/*
 * A batch's ledger fields (encodeNewRow's strings) packed as UTF-8 into one buffer with their end
 * offsets: a batch crosses from the parse worker by transfer (no copy, no string for either heap to
 * collect), and goes to Redis as Buffer arguments, the same bytes the strings would have sent.
 */

export interface PackedFields {
  bytes: Uint8Array<ArrayBuffer>;
  /** Where each field ends in `bytes` (it starts where the previous one ended). */
  ends: Uint32Array<ArrayBuffer>;
}

/** Builds one PackedFields, growing its buffers as fields come. */
export class FieldPacker {
  private bytes = Buffer.allocUnsafe(256 * 1024);
  private ends = new Uint32Array(4096);
  private size = 0;
  private count = 0;

  push(field: string): void {
    // A UTF-16 unit takes at most 3 UTF-8 bytes.
    if (this.size + field.length * 3 > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.size + field.length * 3));
      this.bytes.copy(grown, 0, 0, this.size);
      this.bytes = grown;
    }
    if (this.count === this.ends.length) {
      const grown = new Uint32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.size += field.length === 0 ? 0 : this.bytes.write(field, this.size, 'utf8');
    this.ends[this.count++] = this.size;
  }

  /** The fields so far, trimmed to size (own memory, ready to transfer); the packer starts empty. */
  take(): PackedFields {
    const packed = {
      bytes: new Uint8Array(this.bytes.subarray(0, this.size)),
      ends: this.ends.slice(0, this.count),
    };
    this.size = 0;
    this.count = 0;
    return packed;
  }
}

/** Each field as a Buffer over the packed bytes (no copy). */
export function unpackFields(packed: PackedFields): Buffer[] {
  const { bytes, ends } = packed;
  const out: Buffer[] = new Array<Buffer>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i += 1) {
    out[i] = Buffer.from(bytes.buffer, bytes.byteOffset + start, ends[i]! - start);
    start = ends[i]!;
  }
  return out;
}
