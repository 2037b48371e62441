import { Injectable } from '@nestjs/common';
import { createServer, type Server, type Socket } from 'net';
import { holdTwin } from './twin-listener';

/**
 * A TCP listener that answers every connection with one line and closes it (HAProxy's agent-check
 * protocol). The line is asked for per connection, so it always says the current state.
 */
export abstract class TcpLineServer {
  /**
   * Listens on host:port (port 0: any free port), and on its twin of the other address family (holdTwin); resolves
   * with the bound port. Rejects with a clear message.
   */
  abstract listen(port: number, host: string, lineFor: () => string): Promise<number>;
  /** Stops listening and drops open connections. Idempotent. */
  abstract close(): Promise<void>;
}

@Injectable()
export class NetTcpLineServer extends TcpLineServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  async listen(port: number, host: string, lineFor: () => string): Promise<number> {
    const answer = (socket: Socket): void => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined); // a client that resets must not crash the service
      socket.setTimeout(5000, () => socket.destroy());
      socket.end(lineFor());
    };
    const server = createServer({ allowHalfOpen: false }, answer);
    this.server = server;
    const bound = await new Promise<number>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`cannot listen on ${host}:${port} (AGENT_CHECK_PORT): ${error.code ?? error.message}`)),
      );
      server.listen({ port, host }, () => resolve((server.address() as { port: number }).port));
    });
    try {
      await holdTwin(server, answer, { name: 'AGENT_CHECK_PORT', port });
    } catch (error) {
      await this.close();
      throw error;
    }
    return bound;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}
