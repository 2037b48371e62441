/** A relay URL `<base>/ws/<token>`: a 43-character URL-safe random token, never the spawn id (see relay-token.ts). */
export function relayUrlMatching(base: string): RegExp {
  return new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/ws/[A-Za-z0-9_-]{43}$`);
}
