export interface LogLine {
  at: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Keeps the last `capacity` lines of a process's output. */
export class LineBuffer {
  private readonly lines: LogLine[] = [];
  constructor(private readonly capacity: number) {}

  push(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  all(): LogLine[] {
    return [...this.lines];
  }

  last(count: number, stream?: LogLine['stream']): LogLine[] {
    const selected = stream ? this.lines.filter((l) => l.stream === stream) : this.lines;
    return selected.slice(-count);
  }
}
