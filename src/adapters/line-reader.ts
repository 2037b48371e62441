import type { Readable } from 'stream';

/** The longest line of a server's output kept whole: a longer one is cut here, and says so. */
export const MAX_LINE_BYTES = 16 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits bytes into lines (`\n` or `\r\n`) holding at most `maxBytes` of one line. readline (and split2) hold a
 * line whole until its newline comes: a server that wrote 600 MB without one grew the service's memory until it
 * died ("Invalid string length"), taking every session with it. Here the start of such a line is kept, marked
 * as cut, and the rest of it is dropped until its newline.
 */
export class LineCutter {
  private parts: Buffer[] = [];
  private held = 0;
  private cut = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  write(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, from);
      this.hold(chunk.subarray(from, newline < 0 ? chunk.length : newline));
      if (newline < 0) return;
      this.emit();
      from = newline + 1;
    }
  }

  /** The input ended: a last line without a newline is a line too. */
  end(): void {
    if (this.held > 0 || this.cut) this.emit();
  }

  private hold(bytes: Buffer): void {
    const room = this.maxBytes - this.held;
    if (bytes.length > room) this.cut = true;
    const kept = bytes.subarray(0, Math.max(room, 0));
    if (kept.length === 0) return;
    this.parts.push(Buffer.from(kept)); // a copy: the chunk's memory is not kept alive by a part of it
    this.held += kept.length;
  }

  private emit(): void {
    let line = Buffer.concat(this.parts, this.held);
    if (!this.cut && line.at(-1) === CARRIAGE_RETURN) line = line.subarray(0, -1);
    const text = line.toString('utf8');
    this.parts = [];
    this.held = 0;
    const cut = this.cut;
    this.cut = false;
    this.onLine(cut ? `${text} [line cut at ${this.maxBytes} bytes]` : text);
  }
}

/** Calls `onLine` for each line `input` gives (see LineCutter), the last one at its end. */
export function readLines(input: Readable, onLine: (line: string) => void, maxBytes = MAX_LINE_BYTES): void {
  const cutter = new LineCutter(onLine, maxBytes);
  input.on('data', (chunk: Buffer) => cutter.write(chunk));
  input.once('end', () => cutter.end());
}

/** How many bytes a second one stream of a server's output is read at, at most (a second's worth at once). */
export const OUTPUT_BYTES_PER_S = 1024 * 1024;

/**
 * Reads `input` no faster than `bytesPerS`: past its allowance it is paused until the allowance has caught up,
 * so a server that floods its output blocks in its own writes (its pipe or socket fills) rather than having the
 * service read and split everything it writes. Measured: one server writing as fast as it could took the
 * service's main thread to 70-100 % and its health checks from 3 ms to 110 ms (373 ms with four).
 */
export function throttleInput(input: Readable, bytesPerS = OUTPUT_BYTES_PER_S): void {
  let allowance = bytesPerS;
  let at = performance.now();
  let timer: NodeJS.Timeout | undefined;
  input.on('data', (chunk: Buffer) => {
    const now = performance.now();
    allowance = Math.min(bytesPerS, allowance + ((now - at) * bytesPerS) / 1000) - chunk.length;
    at = now;
    if (allowance >= 0 || timer) return;
    input.pause();
    timer = setTimeout(
      () => {
        timer = undefined;
        if (!input.destroyed) input.resume();
      },
      Math.ceil((-allowance * 1000) / bytesPerS),
    );
  });
  input.once('close', () => clearTimeout(timer));
}
