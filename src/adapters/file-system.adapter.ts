import { Injectable } from '@nestjs/common';
import { accessSync, constants, readFileSync, statSync } from 'fs';
import { realpath } from 'fs/promises';

/** The few file-system questions the service asks outside its journal: behind an interface for tests. */
export abstract class FileSystem {
  /** The start of a text file (at most maxBytes); throws when it cannot be read. */
  abstract readText(file: string, maxBytes: number): string;
  /** The canonical path (symlinks resolved); rejects when it does not exist. */
  abstract realpath(file: string): Promise<string>;
  /** A regular file this process may execute. */
  abstract isExecutableFile(file: string): boolean;
}

@Injectable()
export class NodeFileSystem extends FileSystem {
  readText(file: string, maxBytes: number): string {
    return readFileSync(file, 'utf8').slice(0, maxBytes);
  }

  realpath(file: string): Promise<string> {
    return realpath(file);
  }

  isExecutableFile(file: string): boolean {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  }
}
