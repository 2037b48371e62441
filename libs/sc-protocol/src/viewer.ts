import type { RendererType } from './command-line';

/** The simulator's greeting to a viewer once its WebSocket is accepted (and any session token checked). */
export interface ScHello {
  type: 'hello';
  id: string;
  model: string | null;
  modelFound: boolean;
  rendererType: RendererType;
  sessionToken: boolean;
}

/** A `--model-file` beginning with this prefix selects a simulator fault instead of a model on disk. */
export const SCSIM_FAULT_PREFIX = 'scsim:';

/** WebSocket close code a server uses to refuse a viewer with a wrong session token (policy violation). */
export const CLOSE_POLICY_VIOLATION = 1008;

/** WebSocket close code for an endpoint going away (a server or proxy shutting down). */
export const CLOSE_GOING_AWAY = 1001;
