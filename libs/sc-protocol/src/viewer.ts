/** WebSocket close code a server uses to refuse a viewer with a wrong session token (policy violation). */
export const CLOSE_POLICY_VIOLATION = 1008;

/** WebSocket close code for an endpoint going away (a server or proxy shutting down). */
export const CLOSE_GOING_AWAY = 1001;
