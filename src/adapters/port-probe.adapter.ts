import { Injectable } from '@nestjs/common';
import { createServer } from 'net';

/** A probe that could not tell whether the port is free: the service itself could not make a socket (EMFILE...). */
export class PortProbeError extends Error {
  override readonly name = 'PortProbeError';
}

/** What a bind's error says of the port: another program holds it, or nothing (the service could not try). */
export function bindErrorMeansHeld(code: string | undefined): boolean {
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/** Tells whether a TCP port can be bound right now; rejects with PortProbeError when it cannot tell. */
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
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', (error: NodeJS.ErrnoException) =>
        bindErrorMeansHeld(error.code) ? resolve(false) : reject(new PortProbeError(error.message)),
      );
      server.listen({ port, exclusive: true }, () => server.close(() => resolve(true)));
    });
  }
}
