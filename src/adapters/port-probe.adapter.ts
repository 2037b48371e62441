import { Injectable } from '@nestjs/common';
import { createServer } from 'net';

/** Tells whether a TCP port can be bound right now. */
export abstract class PortProbe {
  abstract isFree(port: number): Promise<boolean>;
}

/**
 * Binds the port on all interfaces, as the Stream Cache Server does, then lets it go.
 * exclusive: true keeps a cluster primary from sharing the handle and hiding a conflict.
 */
@Injectable()
export class NetPortProbe extends PortProbe {
  isFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
    });
  }
}
