/**
 * WebSocket close codes the service's relay sends a viewer when it ends a session for a policy (4000-4999
 * is the range RFC 6455 leaves to applications), with the reason text sent beside each, so an application
 * can tell its user why the session ended.
 */
export const CLOSE_IDLE_TIMEOUT = 4001;
export const CLOSE_LIFETIME_REACHED = 4002;
export const CLOSE_STOPPED_BY_OPERATOR = 4003;
export const CLOSE_NO_FIRST_MESSAGE = 4004;

export type PolicyCloseCode =
  | typeof CLOSE_IDLE_TIMEOUT
  | typeof CLOSE_LIFETIME_REACHED
  | typeof CLOSE_STOPPED_BY_OPERATOR
  | typeof CLOSE_NO_FIRST_MESSAGE;

/** The reason text sent with each policy close code. */
export const CLOSE_REASONS: Readonly<Record<PolicyCloseCode, string>> = {
  [CLOSE_IDLE_TIMEOUT]: 'idle timeout',
  [CLOSE_LIFETIME_REACHED]: 'lifetime reached',
  [CLOSE_STOPPED_BY_OPERATOR]: 'stopped by operator',
  [CLOSE_NO_FIRST_MESSAGE]: 'no first message',
};
