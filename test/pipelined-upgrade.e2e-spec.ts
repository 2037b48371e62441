/**
 * A WebSocket upgrade pipelined on one connection behind a request still being answered (an event stream, a POST
 * /spawn waiting for its server), against the built service and real simulator processes: it must be dropped, not
 * switched to a tunnel that the earlier answer keeps writing into, and start nothing.
 */
import { connect as tcpConnect, type Socket } from 'net';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { sleep, waitFor, withTimeout } from './support/wait';

/** This file's ports (31400-31499): the service on 31400, its servers above. */
const SERVICE_PORT = 31400;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '31401', SC_PORT_COUNT: '10' };

const UPGRADE =
  'GET /?renderingLocation=csr HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

describe('a WebSocket upgrade pipelined behind an unanswered request (e2e, real processes)', () => {
  const cleanup = useCleanup();
  let service: ServiceProcess;

  beforeEach(async () => {
    service = await startServiceProcess(SERVICE_PORT, ENV);
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
  });

  /** A connection from another loopback address (a client of its own), with everything it receives. */
  function connect(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = tcpConnect({ port: SERVICE_PORT, host: '127.0.0.1', localAddress: '127.0.0.2' }, () =>
        resolve({ socket, received: () => text, closed }),
      );
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', reject);
      cleanup.add(() => void socket.destroy(), 'test socket');
    });
  }

  async function connectSpawns(): Promise<unknown[]> {
    const spawns = (await (await fetch(`${service.url}/spawns`)).json()) as Array<{ origin: string }>;
    return spawns.filter((spawn) => spawn.origin === 'connect');
  }

  it.each([
    ['an event stream', 'GET /events HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a spawn', 'POST /spawn HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'],
  ])(
    'behind %s: the connection is dropped, no 101 is written into that answer, nothing is spawned for it',
    async (_, first) => {
      const { socket, received, closed } = await connect();
      socket.write(first + UPGRADE);
      await withTimeout(closed, 5000, 'the service to drop the connection');
      expect(received()).not.toContain('101 Switching Protocols');
      await sleep(300);
      expect(await connectSpawns()).toEqual([]);
    },
  );

  it('on a kept-alive connection whose request has been answered, the upgrade is served', async () => {
    const { socket, received } = await connect();
    socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => received().includes('"status":"ok"'), 5000, { description: 'the health answer' });
    socket.write(UPGRADE);
    await waitFor(() => received().includes('101 Switching Protocols'), 5000, { description: () => received() });
    expect(await connectSpawns()).toHaveLength(1);
  });
});
