import { Injectable } from '@nestjs/common';
import { accessSync, constants, readFileSync, statSync } from 'fs';
import { realpath } from 'fs/promises';

/** The few file-system questions the service asks outside its journal: behind an interface for tests. */
export abstract class FileSystem {
  /** The start of a text file (at most maxBytes); throws when it cannot be read. */
  abstract readText(file: string, maxBytes: number): string;
  /** The canonical path (symlinks resolved); rejects when it does not exist. */
  abstract realpath(file: string): Promise<string>;
  /** Why `file` cannot be executed by this process ("does not exist"...), or undefined when it is an executable regular file. */
  abstract executableProblem(file: string): string | undefined;

  /** A regular file this process may execute. */
  isExecutableFile(file: string): boolean {
    return this.executableProblem(file) === undefined;
  }
}

@Injectable()
export class NodeFileSystem extends FileSystem {
  readText(file: string, maxBytes: number): string {
    return readFileSync(file, 'utf8').slice(0, maxBytes);
  }

  realpath(file: string): Promise<string> {
    return realpath(file);
  }

  executableProblem(file: string): string | undefined {
    let isFile: boolean;
    try {
      isFile = statSync(file).isFile();
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
    }
    if (!isFile) return 'is not a regular file';
    try {
      accessSync(file, constants.X_OK);
      return undefined;
    } catch {
      return 'is not executable by this user';
    }
  }
}
