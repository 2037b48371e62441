import { randomBytes } from 'crypto';

/**
 * The capability to join a session's relay (`/ws/<token>`): 256 random bits, URL-safe. Unlike the spawn id it
 * appears in no command line, so `ps` shows other local users nothing that opens a session.
 */
export function mintRelayToken(): string {
  return randomBytes(32).toString('base64url');
}
