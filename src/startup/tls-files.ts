import * as path from 'path';
import { parseArgv } from '@app/sc-protocol';
import { type FileSystem, secretFileExposure } from '../adapters';
import type { AppConfig } from '../config';

/** A certificate or key larger than this is not one. */
const MAX_TLS_FILE_BYTES = 1024 * 1024;

interface TlsFile {
  flag: '--ssl-certificate-file' | '--ssl-private-key-file';
  file: string;
}

/** The certificate and key SC_EXTRA_ARGS gives the servers, as they will open them (from their working folder). */
function tlsFiles(config: AppConfig): TlsFile[] {
  const options = parseArgv(config.extraArgs);
  const folder = config.workspaceDir ?? process.cwd();
  const given: Array<[TlsFile['flag'], string | undefined]> = [
    ['--ssl-certificate-file', options.sslCertificateFile],
    ['--ssl-private-key-file', options.sslPrivateKeyFile],
  ];
  return given.flatMap(([flag, file]) => (file ? [{ flag, file: path.resolve(folder, file) }] : []));
}

/**
 * Why the servers' certificate or key cannot be believed, one problem each: another user who could write either
 * could make every server present their certificate, with a key they hold (the rules of Config.js:
 * readTrustedText). One that is missing or unreadable is said here too, rather than by every server's exit.
 */
export function tlsFileProblems(config: AppConfig, files: FileSystem): string[] {
  return tlsFiles(config).flatMap(({ flag, file }) => {
    try {
      files.readTrustedText(file, MAX_TLS_FILE_BYTES);
      return [];
    } catch (error) {
      return [`SC_EXTRA_ARGS ${flag} ${file} cannot be used: ${(error as Error).message}`];
    }
  });
}

/**
 * A warning when every local user may read the servers' private key: any of them could pose as the servers to a
 * viewer whose traffic they can reach. Said, not refused, as for API_KEYS_FILE (a container's secret mount may be
 * 0444 on a host with no other user).
 */
export function tlsKeyWarning(config: AppConfig, files: FileSystem): string | undefined {
  const key = tlsFiles(config).find(({ flag }) => flag === '--ssl-private-key-file');
  if (!key) return undefined;
  let problem: string | undefined;
  try {
    problem = secretFileExposure(files.modeOf(key.file));
  } catch {
    return undefined;
  }
  return (
    problem && `SC_EXTRA_ARGS --ssl-private-key-file ${key.file} ${problem}: any of them could pose as the servers`
  );
}
