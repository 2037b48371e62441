import { chmodSync, copyFileSync } from 'fs';
import { join } from 'path';
import type { Cleanup } from './processes';
import { makeTempDir } from './temp';

const FIXTURE = join(__dirname, '..', 'fixtures', 'tls');

/** The test certificate (self-signed for 127.0.0.1 and localhost), to trust on the client side. */
export const TEST_CERT = join(FIXTURE, 'cert.pem');

/**
 * The test certificate and key as an operator keeps them (0644 and 0600 in a folder of ours), whatever umask the
 * checkout was made with: the service refuses a certificate or key that group or others may write.
 */
export function tlsFiles(cleanup: Cleanup): { cert: string; key: string; args: string[] } {
  const dir = makeTempDir(cleanup, 'sc-test-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  copyFileSync(TEST_CERT, cert);
  copyFileSync(join(FIXTURE, 'key.pem'), key);
  chmodSync(cert, 0o644);
  chmodSync(key, 0o600);
  return { cert, key, args: ['--ssl-certificate-file', cert, '--ssl-private-key-file', key] };
}
