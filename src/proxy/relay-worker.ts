import { type ChildProcess, fork } from 'child_process';
import type { Socket } from 'net';
import * as path from 'path';
import { TLSSocket } from 'tls';
import { holdConnectionUntil } from '../http';
import { RemoteTunnel } from './remote-tunnel';
import { HEARTBEAT_MS, heard, hesitant, type RelayWatch, startWatch, watchTick } from './relay-watch';
import type { FromRelayWorker, ToRelayWorker } from './relay-worker.protocol';
import type { WsTunnelOptions } from './ws-tunnel';

/** The relay process's entry: beside this file once built; from the sources (as under Jest), the build's. */
export function relayWorkerEntry(): string {
  return __filename.endsWith('.ts')
    ? path.resolve(__dirname, '../../dist/src/proxy/relay-worker.main.js')
    : path.join(__dirname, 'relay-worker.main.js');
}

interface SocketInternals {
  _handle?: { readStop?(): number } | null;
  _readableState?: { ended?: boolean };
}

/** A plain TCP socket, open both ways, with nothing waiting to be written: its descriptor can move to another process. */
function canHandOver(socket: Socket): boolean {
  const internals = socket as unknown as SocketInternals;
  return (
    !(socket instanceof TLSSocket) &&
    typeof internals._handle?.readStop === 'function' &&
    !socket.destroyed &&
    socket.writableLength === 0 &&
    internals._readableState?.ended !== true
  );
}

/**
 * Takes what the socket has read but nobody consumed, and stops it reading. A paused socket keeps reading into its
 * buffer (pause() only stops 'data' events), and a socket handed to another process drops whatever it reads after
 * that: so the buffer is taken and the reads stopped in one synchronous step; the kernel keeps what comes next for
 * the relay process to read.
 */
function detach(socket: Socket): Buffer {
  const buffered = socket.read() as Buffer | null;
  (socket as unknown as SocketInternals)._handle!.readStop!();
  return buffered ?? Buffer.alloc(0);
}

export type TunnelOptions = Pick<
  WsTunnelOptions,
  'highWaterMark' | 'closeGraceMs' | 'onBytes' | 'onClosed' | 'onError'
>;

/** The relay process (relay-worker.main.ts) and the tunnels handed to it; the one owner of that child process. */
export class RelayWorker {
  readonly ready: Promise<boolean>;
  private readonly child: ChildProcess;
  private readonly tunnels = new Map<number, RemoteTunnel>();
  private nextId = 0;
  private isReady = false;
  private exited = false;
  private readonly exit: Promise<void>;
  private readonly heartbeat: NodeJS.Timeout;
  private watch: RelayWatch;
  private killedAfterMs: number | undefined;

  constructor(entry: string, onGone: (how: string, dropped: number) => void) {
    this.child = fork(entry, [], {
      execArgv: [],
      env: {},
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // A relay process that is alive but stuck (a loop that never yields, from its start on) would freeze its tunnels
    // forever, and its exit would never come: it is pinged, and killed once silent too long (relay-watch.ts), which
    // ends its tunnels as a crash does.
    this.watch = startWatch(performance.now());
    this.heartbeat = setInterval(() => this.checkAnswering(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.exit = new Promise((resolve) => {
      const ended = (how: string) => {
        if (this.exited) return;
        this.exited = true;
        clearInterval(this.heartbeat);
        const dropped = [...this.tunnels.values()];
        this.tunnels.clear();
        for (const tunnel of dropped) tunnel.closed({ initiator: 'proxy', code: 1006, clean: false });
        onGone(how, dropped.length);
        resolve();
      };
      this.child.once('exit', (code, signal) => {
        if (this.killedAfterMs !== undefined) ended(`unresponsive for ${this.killedAfterMs} ms, killed`);
        else ended(signal ? `signal ${signal}` : `exit code ${code}`);
      });
      // A fork that failed (EAGAIN, EMFILE) emits only 'error', never 'exit'.
      this.child.on('error', (error) => {
        if (this.child.pid === undefined) ended(`not started: ${error.message}`);
      });
    });
    this.ready = new Promise((resolve) => {
      this.child.on('message', (message: FromRelayWorker) => {
        // Once it is being killed, nothing it still says (a pong read late) makes it usable again.
        if (this.killedAfterMs !== undefined) return;
        this.watch = heard(this.watch, performance.now(), message.type === 'pong' ? message.seq : undefined);
        if (message.type === 'ready') {
          this.isReady = true;
          resolve(true);
        } else if (message.type !== 'pong') this.receive(message);
      });
      void this.exit.then(() => resolve(false));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The process has exited. */
  get gone(): boolean {
    return this.exited;
  }

  /** Up, connected, and answering. */
  get usable(): boolean {
    const answering = this.killedAfterMs === undefined && !hesitant(this.watch, performance.now());
    return this.isReady && !this.exited && this.child.connected && answering;
  }

  /** Hands both sockets to the relay process and returns the tunnel's stand-in; undefined if they cannot move. */
  handOver(viewer: Socket, viewerHead: Buffer, server: Socket, serverHead: Buffer, options: TunnelOptions) {
    if (!this.usable || !canHandOver(viewer) || !canHandOver(server)) return undefined;
    const id = ++this.nextId;
    const tunnel = new RemoteTunnel(options, (command) => this.send({ ...command, id }));
    this.tunnels.set(id, tunnel);
    const { highWaterMark, closeGraceMs } = options;
    // The viewer's connection still counts against its client's MAX_CONNECTIONS_PER_CLIENT while the tunnel runs there.
    holdConnectionUntil(viewer, tunnel.closed$());
    const viewerBytes = Buffer.concat([viewerHead, detach(viewer)]);
    const serverBytes = Buffer.concat([serverHead, detach(server)]);
    this.sendSocket(id, viewer, { type: 'viewer', id, head: viewerBytes, allowHalfOpen: viewer.allowHalfOpen });
    const allowHalfOpen = server.allowHalfOpen;
    this.sendSocket(id, server, { type: 'server', id, head: serverBytes, allowHalfOpen, highWaterMark, closeGraceMs });
    return tunnel;
  }

  /** Ends the relay process (its tunnels should be closed by now): it exits when its IPC channel closes. */
  async stop(): Promise<void> {
    if (this.exited) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exit;
    clearTimeout(timer);
  }

  /**
   * Sends the connection itself: a socket its HTTP server accepted is first unlinked from it (`server`), or Node would
   * count it as the relay process's from then on, and the server's close() would wait on that process forever once it
   * has exited. The socket object left here is then destroyed, as the server's count expects of a connection that
   * ended (its descriptor is the relay process's by then, or closed if it could not be sent).
   */
  private sendSocket(id: number, socket: Socket, message: ToRelayWorker): void {
    (socket as unknown as { server: unknown }).server = null;
    this.child.send(message, socket, { keepOpen: false }, (error) => {
      socket.destroy();
      if (!error) return;
      this.send({ type: 'terminate', id });
      this.tunnels.get(id)?.closed({ initiator: 'proxy', code: 1006, clean: false });
      this.tunnels.delete(id);
    });
  }

  private checkAnswering(): void {
    const step = watchTick(this.watch, performance.now());
    if (step.action === 'kill') {
      this.killedAfterMs = step.silentMs;
      clearInterval(this.heartbeat);
      this.child.kill('SIGKILL');
      return;
    }
    this.watch = step.watch;
    this.send({ type: 'ping', seq: step.seq });
  }

  private send(message: ToRelayWorker): void {
    if (this.child.connected) this.child.send(message, (error) => void error);
  }

  private receive(message: Exclude<FromRelayWorker, { type: 'ready' | 'pong' }>): void {
    const tunnel = this.tunnels.get(message.id);
    if (!tunnel) return;
    if (message.type === 'report') tunnel.report(message.counts, message.viewerHasSpoken, message.flow);
    else if (message.type === 'error') tunnel.error(message.side, message.message);
    else {
      this.tunnels.delete(message.id);
      tunnel.closed(message.close);
    }
  }
}
