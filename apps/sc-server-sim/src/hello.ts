import type { RendererType } from '@app/sc-protocol';

/** The simulator's greeting to a viewer once its WebSocket is accepted (and any session token checked). */
export interface ScHello {
  type: 'hello';
  id: string;
  model: string | null;
  modelFound: boolean;
  rendererType: RendererType;
  sessionToken: boolean;
}
