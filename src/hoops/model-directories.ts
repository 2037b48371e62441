import { Injectable } from '@nestjs/common';
import * as path from 'path';
import { FileSystem } from '../adapters/file-system.adapter';
import { AppConfig } from '../config/app-config';
import { ClientError } from '../http/http-error';

/** A client-chosen model folder that cannot be used (400). */
export class ModelDirectoryRefusedError extends ClientError {
  constructor(message: string) {
    super(400, message);
  }
}

/** Client-chosen model folders are honoured only when their real path lies inside an allowed model root. */
@Injectable()
export class ModelDirectoryPolicy {
  private rootsPromise?: Promise<string[]>;

  constructor(
    private readonly config: AppConfig,
    private readonly files: FileSystem,
  ) {}

  async resolve(requested: readonly string[] | undefined): Promise<string[]> {
    if (!requested?.length) return [];
    const roots = await this.allowedRoots();
    const resolved: string[] = [];
    for (const entry of requested) {
      if (entry === '' || entry.includes(';') || entry.includes('\0')) {
        throw new ModelDirectoryRefusedError(
          `modelSearchDirectories entry ${JSON.stringify(entry)} is not a usable folder path (empty, or contains ';')`,
        );
      }
      let real: string;
      try {
        real = await this.files.realpath(path.resolve(entry));
      } catch {
        throw new ModelDirectoryRefusedError(
          `modelSearchDirectories entry ${JSON.stringify(entry)} does not exist on this server`,
        );
      }
      // A symlink can lead to a real path with ';', the server's search-path separator: it cannot be passed on.
      if (real.includes(';')) {
        throw new ModelDirectoryRefusedError(
          `modelSearchDirectories entry ${JSON.stringify(entry)} is not a usable folder path (its real path contains ';')`,
        );
      }
      if (!roots.some((root) => real === root || real.startsWith(root + path.sep))) {
        throw new ModelDirectoryRefusedError(
          `modelSearchDirectories entry ${JSON.stringify(entry)} is outside the allowed model roots`,
        );
      }
      if (!resolved.includes(real)) resolved.push(real);
    }
    return resolved;
  }

  private allowedRoots(): Promise<string[]> {
    this.rootsPromise ??= Promise.all(
      this.config.allowedModelRoots.map((root) => this.files.realpath(root).catch(() => path.resolve(root))),
    );
    return this.rootsPromise;
  }
}
