import { Inject, Injectable } from '@nestjs/common';
import * as path from 'path';
import { FileSystem } from '../adapters';
import { SERVERS_SETTINGS, type ServersSettings } from '../config';
import { ClientError } from '../http';

/** A client-chosen model folder that cannot be used (400). */
export class ModelDirectoryRefusedError extends ClientError {
  constructor(message: string) {
    super(400, message);
  }
}

/**
 * Client-chosen model folders are honoured only inside an allowed model root. The answer never tells a client
 * more about this machine than "not an allowed folder": a folder outside the roots is refused by its path alone,
 * before any file-system call, and inside the roots a missing folder, or a symlink leading out of them, gets
 * that very same refusal.
 */
@Injectable()
export class ModelDirectoryPolicy {
  private rootsPromise?: Promise<string[]>;

  constructor(
    @Inject(SERVERS_SETTINGS.token) private readonly servers: ServersSettings,
    private readonly files: FileSystem,
  ) {}

  async resolve(requested: readonly string[] | undefined): Promise<string[]> {
    if (!requested?.length) return [];
    for (const entry of requested) this.checkLexically(entry);
    const realRoots = await this.realRoots();
    const resolved: string[] = [];
    for (const entry of requested) {
      let real: string;
      try {
        real = await this.files.realpath(path.resolve(entry));
      } catch {
        throw notAllowed(entry);
      }
      // A symlink may lead out of the roots, or to a real path with ';' (the server's search-path separator).
      if (real.includes(';') || !isInside(real, realRoots)) throw notAllowed(entry);
      if (!resolved.includes(real)) resolved.push(real);
    }
    return resolved;
  }

  /** Refusals decided by the text alone. */
  private checkLexically(entry: string): void {
    if (entry === '' || entry.includes(';')) {
      throw new ModelDirectoryRefusedError(
        `modelSearchDirectories entry ${JSON.stringify(entry)} is not a usable folder path (empty, or contains ';')`,
      );
    }
    const lexicalRoots = this.servers.allowedModelRoots.map((root) => path.resolve(root));
    if (!isInside(path.resolve(entry), lexicalRoots)) throw notAllowed(entry);
  }

  private realRoots(): Promise<string[]> {
    this.rootsPromise ??= Promise.all(
      this.servers.allowedModelRoots.map((root) => this.files.realpath(root).catch(() => path.resolve(root))),
    );
    return this.rootsPromise;
  }
}

function isInside(candidate: string, roots: readonly string[]): boolean {
  return roots.some(
    (root) => candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep),
  );
}

/** The one refusal for a folder outside the roots, missing, or leading out of them: the same words for all. */
function notAllowed(entry: string): ModelDirectoryRefusedError {
  return new ModelDirectoryRefusedError(
    `modelSearchDirectories entry ${JSON.stringify(entry)} is not an allowed model folder on this server`,
  );
}
