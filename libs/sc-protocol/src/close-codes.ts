/**
 * WebSocket close codes the relay sends a viewer when a policy of the service ends its session (4000-4999:
 * codes for applications, RFC 6455 §7.4.2). One place, shared by every policy that closes a tunnel.
 */
export const CLOSE_IDLE_TIMEOUT = 4001;
export const CLOSE_LIFETIME_REACHED = 4002;
export const CLOSE_STOPPED_BY_OPERATOR = 4003;
export const CLOSE_NO_FIRST_MESSAGE = 4004;

/** The reason text sent with each policy close code. */
export const POLICY_CLOSE_REASONS: Readonly<Record<number, string>> = {
  [CLOSE_IDLE_TIMEOUT]: 'idle timeout',
  [CLOSE_LIFETIME_REACHED]: 'lifetime reached',
  [CLOSE_STOPPED_BY_OPERATOR]: 'stopped by operator',
  [CLOSE_NO_FIRST_MESSAGE]: 'no first message',
};
