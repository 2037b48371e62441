import { Inject, Injectable, Logger } from '@nestjs/common';
import { FileSystem } from '../../adapters';
import { SERVERS_SETTINGS, type ServersSettings, SIMULATOR_DUMMY_LICENSE } from '../../config';

const MAX_LICENSE_FILE_BYTES = 64 * 1024;
const MIN_SECRET_LENGTH = 4;

/** Removes the license key and license file contents from anything a server printed, before it is logged or shown. */
@Injectable()
export class SecretRedactor {
  private readonly secrets: string[];

  constructor(@Inject(SERVERS_SETTINGS.token) config: ServersSettings, files: FileSystem) {
    const secrets = [config.license ?? ''];
    if (config.licenseFile && config.licenseFile !== SIMULATOR_DUMMY_LICENSE) {
      try {
        const contents = files.readText(config.licenseFile, MAX_LICENSE_FILE_BYTES);
        secrets.push(contents.trim(), ...contents.split(/\r?\n/).map((line) => line.trim()));
      } catch (error) {
        new Logger(SecretRedactor.name).warn(
          `cannot read SC_LICENSE_FILE ${config.licenseFile}: ${(error as Error).message}`,
        );
      }
    }
    this.secrets = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort(
      (a, b) => b.length - a.length,
    );
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) if (result.includes(secret)) result = result.split(secret).join('***');
    return result;
  }
}
