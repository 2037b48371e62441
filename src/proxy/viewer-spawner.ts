import type { Logger } from '@nestjs/common';
import type { Duplex } from 'stream';
import type { SessionOwner, SupervisorService } from '../supervisor';
import type { TicketSpec } from '../tickets';
import type { ConnectRefusals } from './connect-refusals';
import { connectRefusal, shuttingDownRefusal } from './spawn-on-connect';

/** What a viewer may send while its server starts (it should send nothing before the 101): more drops it. */
const MAX_EARLY_BYTES = 64 * 1024;

/** A viewer that connected to the service port and waits for the server spawned for it. */
interface PendingConnect {
  socket: Duplex;
  abort: AbortController;
  early: Buffer[];
}

/** A viewer whose server is ready: the caller joins it to the session, with the bytes it sent meanwhile. */
export interface ViewerReady {
  id: string;
  early: Buffer;
}

/** Spawn on connect (the HOOPS Server's proxy mode): the viewers waiting for a server started for them. */
export class ViewerSpawner {
  private readonly pending = new Set<PendingConnect>();
  private refusing = false;

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly logger: Logger,
    private readonly refusals: ConnectRefusals,
  ) {}

  /**
   * Spawn on connect (the HOOPS Server's proxy mode): a server is started for this viewer through the facade
   * (which may hand out a warm one) and, once ready, resolves with it so the caller joins the viewer exactly as
   * at /ws/<id>. A failure is answered before the upgrade (resolves undefined); the viewer leaving first stops the
   * spawn (the abort signal). `owner`: who asks, for SC_KEY_MAX_SESSIONS and the session's `key`.
   */
  async spawnFor(
    spec: TicketSpec,
    owner: SessionOwner | undefined,
    socket: Duplex,
    head: Buffer,
  ): Promise<ViewerReady | undefined> {
    if (this.refusing || this.supervisor.isShuttingDown) {
      this.refusals.answer(socket, shuttingDownRefusal());
      return undefined;
    }
    const pending: PendingConnect = { socket, abort: new AbortController(), early: head.length > 0 ? [head] : [] };
    this.pending.add(pending);
    // The socket keeps flowing while the server starts, so a viewer that leaves is seen at once.
    let earlyBytes = head.length;
    const onData = (chunk: Buffer): void => {
      earlyBytes += chunk.length;
      if (earlyBytes > MAX_EARLY_BYTES) socket.destroy();
      else pending.early.push(chunk);
    };
    const onEnd = (): void => void socket.destroy();
    const onClose = (): void => pending.abort.abort();
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    const settle = (): void => {
      this.pending.delete(pending);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
    };
    let spawn: Awaited<ReturnType<SupervisorService['spawn']>>;
    try {
      spawn = await this.supervisor.spawn({ ...spec, origin: 'connect', owner }, pending.abort.signal);
    } catch (error) {
      settle();
      // Stopped because the viewer left, or by refuseAll (which answered it): nothing was refused here.
      if (pending.abort.signal.aborted) return undefined;
      this.refusals.answer(socket, connectRefusal(error));
      return undefined;
    }
    settle();
    if (pending.abort.signal.aborted || socket.destroyed || !socket.writable || this.refusing) {
      this.stopOwned(spawn.id, 'the viewer left before its server was ready');
      // Aborted: refuseAll has answered it already, or the viewer left. A viewer that left is no refusal either.
      if (pending.abort.signal.aborted) return undefined;
      if (this.refusing && socket.writable) this.refusals.answer(socket, shuttingDownRefusal());
      else socket.destroy();
      return undefined;
    }
    this.logger.log(`spawned ${spawn.id} (${spec.rendererType}) for a viewer on the service port`);
    return { id: spawn.id, early: Buffer.concat(pending.early) };
  }

  /** At shutdown: every viewer still waiting is refused, and its spawn stopped (the abort). */
  refuseAll(): void {
    this.refusing = true;
    for (const pending of [...this.pending]) {
      this.pending.delete(pending);
      pending.abort.abort();
      this.refusals.answer(pending.socket, shuttingDownRefusal());
    }
  }

  /** Ends a session spawned for a viewer that is gone (nobody else can use it). */
  stopOwned(id: string, reason: string): void {
    try {
      this.supervisor.stop(id, reason);
    } catch (error) {
      this.logger.debug(`stopping ${id}: ${(error as Error).message}`);
    }
  }
}
