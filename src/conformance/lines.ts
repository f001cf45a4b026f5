/**
 * Splitting a byte stream into lines with a cap on the length of one line, for the driver
 * protocol (docs/trace-format.md §7): a line longer than the cap is reported as soon as the cap is
 * crossed, without buffering the rest of it (an endless line must not grow a buffer until
 * the process runs out of memory or hits the engine's string length).
 */

/** A complete line (UTF-8 decoded, without its `\n` or `\r\n`), or the report that a line is too long. */
export type LineEvent = { line: string } | { tooLong: true };

/** A complete line as bytes (without its `\n` or `\r\n`; a view of the chunk when it lies in one), or the report that a line is too long. */
export type ByteLineEvent = { bytes: Buffer } | { tooLong: true };

export class LineReader {
  private parts: Buffer[] = [];
  private size = 0;
  private stopped = false;

  constructor(readonly maxBytes: number) {}

  /** Feed a chunk: the lines it completes, decoded. After a `tooLong` event the reader ignores everything. */
  push(chunk: Buffer): LineEvent[] {
    return this.pushBytes(chunk).map(decoded);
  }

  /**
   * Feed a chunk: the lines it completes, as bytes, not decoded (for a reader that compares
   * bytes first). After a `tooLong` event the reader ignores everything.
   */
  pushBytes(chunk: Buffer): ByteLineEvent[] {
    const out: ByteLineEvent[] = [];
    let start = 0;
    while (!this.stopped) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.size + (end - start) > this.maxBytes) {
        this.stop();
        out.push({ tooLong: true });
        break;
      }
      if (nl !== -1 && this.size === 0) {
        out.push({ bytes: trimCrBytes(chunk.subarray(start, end)) });
        start = nl + 1;
        continue;
      }
      if (end > start) {
        this.parts.push(chunk.subarray(start, end));
        this.size += end - start;
      }
      if (nl === -1) break;
      out.push({ bytes: this.takeBytes() });
      start = nl + 1;
    }
    return out;
  }

  /** The end of the stream: a last line without a newline, if any. */
  end(): LineEvent[] {
    return this.endBytes().map(decoded);
  }

  /** `end` for a reader fed with pushBytes. */
  endBytes(): ByteLineEvent[] {
    if (this.stopped || this.size === 0) return [];
    return [{ bytes: this.takeBytes() }];
  }

  private takeBytes(): Buffer {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return trimCrBytes(bytes);
  }

  private stop(): void {
    this.stopped = true;
    this.parts = [];
    this.size = 0;
  }
}

function trimCrBytes(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}

/** A byte line decoded as UTF-8 (its `\r` is already gone: 0x0d is never part of a multi-byte sequence). */
function decoded(e: ByteLineEvent): LineEvent {
  return 'bytes' in e ? { line: e.bytes.toString('utf8') } : e;
}
