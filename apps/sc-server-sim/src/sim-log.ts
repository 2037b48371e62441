import { appendFileSync } from 'fs';

/**
 * The simulator's output: one line per event on stdout (errors on stderr), each prefixed with
 * `[sc-sim <id>]` so a supervisor that captures the output of many processes can tell them apart.
 * With --log-file the same lines are appended to that file too.
 * Nothing secret is ever passed in here: callers must not log the license key or license file contents.
 */
export class SimLog {
  private prefix = '[sc-sim]';
  private logFile: string | undefined;

  constructor() {
    // A supervisor that closes our pipes must not crash us with EPIPE.
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
  }

  setId(id: string): void {
    this.prefix = `[sc-sim ${id}]`;
  }

  setLogFile(path: string | undefined): void {
    this.logFile = path;
  }

  info(message: string): void {
    this.write(process.stdout, message);
  }

  error(message: string): void {
    this.write(process.stderr, message);
  }

  private write(stream: NodeJS.WriteStream, message: string): void {
    const line = `${this.prefix} ${message}\n`;
    stream.write(line);
    if (this.logFile !== undefined) {
      try {
        appendFileSync(this.logFile, `${new Date().toISOString()} ${line}`);
      } catch (error) {
        const failed = this.logFile;
        this.logFile = undefined; // report once, then keep going without the file
        process.stderr.write(`${this.prefix} cannot write log file ${failed}: ${(error as Error).message}\n`);
      }
    }
  }
}
