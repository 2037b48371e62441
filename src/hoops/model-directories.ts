import { BadRequestException, Injectable } from '@nestjs/common';
import { realpath } from 'fs/promises';
import * as path from 'path';
import { AppConfig } from '../config/app-config';

/** Client-chosen model folders are honoured only when their real path lies inside an allowed model root. */
@Injectable()
export class ModelDirectoryPolicy {
  private rootsPromise?: Promise<string[]>;

  constructor(private readonly config: AppConfig) {}

  async resolve(requested: readonly string[] | undefined): Promise<string[]> {
    if (!requested?.length) return [];
    const roots = await this.allowedRoots();
    const resolved: string[] = [];
    for (const entry of requested) {
      if (entry === '' || entry.includes(';') || entry.includes('\0')) {
        throw new BadRequestException(`modelSearchDirectories entry ${JSON.stringify(entry)} is not a usable folder path (empty, or contains ';')`);
      }
      let real: string;
      try {
        real = await realpath(path.resolve(entry));
      } catch {
        throw new BadRequestException(`modelSearchDirectories entry ${JSON.stringify(entry)} does not exist on this server`);
      }
      // A symlink can lead to a real path with ';', the server's search-path separator: it cannot be passed on.
      if (real.includes(';')) {
        throw new BadRequestException(`modelSearchDirectories entry ${JSON.stringify(entry)} is not a usable folder path (its real path contains ';')`);
      }
      if (!roots.some((root) => real === root || real.startsWith(root + path.sep))) {
        throw new BadRequestException(`modelSearchDirectories entry ${JSON.stringify(entry)} is outside the allowed model roots`);
      }
      if (!resolved.includes(real)) resolved.push(real);
    }
    return resolved;
  }

  private allowedRoots(): Promise<string[]> {
    this.rootsPromise ??= Promise.all(
      this.config.allowedModelRoots.map((root) => realpath(root).catch(() => path.resolve(root))),
    );
    return this.rootsPromise;
  }
}
