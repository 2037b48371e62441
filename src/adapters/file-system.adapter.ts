import { Injectable } from '@nestjs/common';
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
} from 'fs';
import { realpath } from 'fs/promises';
import * as path from 'path';
import { ancestorProblem, codeFolderProblem, fileFacts, foldersDownTo, trustedFileProblem } from './file-trust';
import { untrustedAncestor } from './own-folder';

/** The few file-system questions the service asks outside its journal: behind an interface for tests. */
export abstract class FileSystem {
  /** The start of a regular text file (at most maxBytes); throws when it cannot be read. */
  abstract readText(file: string, maxBytes: number): string;
  /**
   * A whole regular text file the service believes (code it runs, keys it accepts); throws when it is larger than
   * maxBytes, or when another user may have written it (see trustedFileProblem) or swapped it (ancestorProblem).
   */
  abstract readTrustedText(file: string, maxBytes: number): string;
  /** The canonical path (symlinks resolved); rejects when it does not exist. */
  abstract realpath(file: string): Promise<string>;
  /** The permission bits of a file (where its links lead); throws when it cannot be reached. */
  abstract modeOf(file: string): number;
  /**
   * Why another user could change the code `file` runs, or undefined: the file (see trustedFileProblem), a folder on
   * the way to it (ancestorProblem), or its folder, as written and where its link leads (codeFolderProblem: the
   * servers' LD_LIBRARY_PATH). A file that cannot be reached is left to executableProblem.
   */
  abstract untrustedCodeProblem(file: string): string | undefined;
  /**
   * Why `folder` cannot hold the files of processes run as the service's user, or undefined: it is missing or not a
   * folder, or another user may swap or read what is written in it (see untrustedAncestor: it and every folder on
   * the way, as written and where its links lead).
   */
  abstract untrustedFolderProblem(folder: string): string | undefined;
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
    return readRegularFile(file, maxBytes).subarray(0, maxBytes).toString('utf8');
  }

  readTrustedText(file: string, maxBytes: number): string {
    const ownUid = process.getuid?.() ?? 0;
    const written = path.resolve(file);
    const real = realpathSync(written);
    const swappable = swappableProblem(written, real, ownUid);
    if (swappable) throw new Error(swappable);
    // What is read is what was checked: the descriptor itself (O_NOFOLLOW: the real path ends in no link).
    const bytes = readRegularFile(real, maxBytes, (stats) => trustedFileProblem(fileFacts(stats), ownUid));
    if (bytes.length > maxBytes) throw new Error(`it is larger than ${maxBytes} bytes`);
    return bytes.toString('utf8');
  }

  untrustedCodeProblem(file: string): string | undefined {
    const ownUid = process.getuid?.() ?? 0;
    const written = path.resolve(file);
    let real: string;
    try {
      real = realpathSync(written);
    } catch {
      return undefined;
    }
    const swappable = swappableProblem(written, real, ownUid);
    if (swappable) return swappable;
    for (const folder of new Set([realpathSync(path.dirname(written)), path.dirname(real)])) {
      const problem = codeFolderProblem(fileFacts(statSync(folder)), ownUid);
      if (problem) return `its folder ${folder} ${problem}`;
    }
    const problem = trustedFileProblem(fileFacts(statSync(real)), ownUid);
    return problem && `it ${problem}`;
  }

  untrustedFolderProblem(folder: string): string | undefined {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(folder).isDirectory();
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be reached';
    }
    if (!isDirectory) return 'is not a folder';
    const found = untrustedAncestor(path.resolve(folder), process.getuid?.() ?? 0);
    return found && `could be changed by another user: ${found.folder} ${found.problem}`;
  }

  realpath(file: string): Promise<string> {
    return realpath(file);
  }

  modeOf(file: string): number {
    return statSync(file).mode & 0o7777;
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

/**
 * Why another user could swap the file at `written` (which leads to `real`) for one of theirs, or undefined: a folder
 * on the way, as written (a link on the way, or the file's own name as a link, is its owner's to point elsewhere
 * later) and where the links lead (see ancestorProblem).
 */
function swappableProblem(written: string, real: string, ownUid: number): string | undefined {
  const problemOf = (where: string, step: string) => {
    const problem = ancestorProblem(fileFacts(lstatSync(step)), ownUid);
    return problem && `${where} ${step}, which ${problem}`;
  };
  for (const step of foldersDownTo(path.dirname(written))) {
    const problem = problemOf('it is reached through', step);
    if (problem) return problem;
  }
  if (lstatSync(written).isSymbolicLink()) {
    const problem = problemOf('it is the link', written);
    if (problem) return problem;
  }
  for (const folder of foldersDownTo(path.dirname(real))) {
    const problem = problemOf('it is in', folder);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * At most maxBytes + 1 bytes of a regular file: never more (a link to /dev/zero filled the memory), and never
 * waiting (a FIFO blocked the start for ever; O_NONBLOCK opens it at once, and it is then refused).
 */
function readRegularFile(file: string, maxBytes: number, refuse?: (stats: Stats) => string | undefined): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (refuse ? constants.O_NOFOLLOW : 0));
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new Error('it is not a regular file');
    const problem = refuse?.(stats);
    if (problem) throw new Error(`it ${problem}`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length < buffer.length; length += read) {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
