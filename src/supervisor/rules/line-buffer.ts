export interface LogLine {
  at: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/**
 * The characters of output one process keeps at most. Lines are cut at 16 KiB each, but 200 of them, kept for
 * every live and ended spawn (132 records), held about 760 MB of a hostile server's output (16 KiB of invalid
 * UTF-8 is 16,384 replacement characters, twice as many bytes in a string); within this, 132 records hold 17 MB.
 */
export const LOG_CHARS_KEPT = 64 * 1024;

/** Keeps the last `capacity` lines of a process's output, and no more than `maxChars` characters of them. */
export class LineBuffer {
  private readonly lines: LogLine[] = [];
  private chars = 0;
  constructor(
    private readonly capacity: number,
    private readonly maxChars = LOG_CHARS_KEPT,
  ) {}

  push(line: LogLine): void {
    this.lines.push(line);
    this.chars += line.line.length;
    // The newest line is kept whatever its length (it is at most one cut line).
    while (this.lines.length > 1 && (this.lines.length > this.capacity || this.chars > this.maxChars)) {
      this.chars -= this.lines.shift()!.line.length;
    }
  }

  all(): LogLine[] {
    return [...this.lines];
  }

  last(count: number, stream?: LogLine['stream']): LogLine[] {
    const selected = stream ? this.lines.filter((l) => l.stream === stream) : this.lines;
    return selected.slice(-count);
  }
}
