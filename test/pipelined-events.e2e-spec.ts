/**
 * Requests pipelined on one connection behind an event stream, against the built service and real simulator
 * processes: each is handled only when its turn comes, so no answer waits in memory (a queued event stream keeps no
 * events, a queued list is built at its turn), then it is answered like any other.
 */
import { connect as tcpConnect, type Socket } from 'net';
import { useCleanup } from './support/processes';
import { FAST_TIMINGS, startServiceProcess, type ServiceProcess } from './support/spawner-app';
import { waitFor } from './support/wait';

/** This file's ports (31800-31899): the service on 31800, its servers above. */
const SERVICE_PORT = 31800;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: '31801', SC_PORT_COUNT: '10' };

describe('requests pipelined behind an event stream (e2e, real processes)', () => {
  const cleanup = useCleanup();
  let service: ServiceProcess;

  beforeEach(async () => {
    service = await startServiceProcess(SERVICE_PORT, ENV);
    cleanup.add(() => service.stop(5000), `service process ${service.child.pid}`);
  });

  async function spawn(): Promise<string> {
    const answer = await fetch(`${service.url}/spawn`, { method: 'POST' });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { id: string }).id;
  }

  async function stop(id: string): Promise<void> {
    expect((await fetch(`${service.url}/spawns/${id}`, { method: 'DELETE' })).status).toBe(202);
  }

  async function exited(id: string): Promise<void> {
    const state = async () => ((await (await fetch(`${service.url}/spawns/${id}`)).json()) as { state: string }).state;
    await waitFor(async () => (await state()) === 'exited', 5000, { description: `spawn ${id} to exit` });
  }

  /** A connection from another loopback address, with everything it has received. */
  function connect(): Promise<{ socket: Socket; received: () => string }> {
    return new Promise((resolve, reject) => {
      let text = '';
      const socket = tcpConnect({ port: SERVICE_PORT, host: '127.0.0.1', localAddress: '127.0.0.2' }, () =>
        resolve({ socket, received: () => text }),
      );
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('error', reject);
      cleanup.add(() => void socket.destroy(), 'test socket');
    });
  }

  it('starts a queued stream at its turn, with nothing kept for it meanwhile', async () => {
    const first = await spawn();
    const { socket, received } = await connect();
    socket.write(`GET /spawns/${first}/events HTTP/1.1\r\nHost: x\r\n\r\nGET /events HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(() => received().includes('current state'), 5000, { description: 'the first stream' });

    // While the second stream waits behind the first, a spawn comes and goes.
    const meanwhile = await spawn();
    await stop(meanwhile);
    await exited(meanwhile);

    // The first stream ends with its spawn; the second one's turn comes.
    await stop(first);
    const second = () => received().split('HTTP/1.1 200 OK')[2] ?? '';
    await waitFor(() => second().includes(': connected'), 5000, { description: 'the second stream' });
    const after = await spawn();
    await waitFor(() => second().includes(after), 5000, { description: 'the second stream to follow' });
    expect(second()).not.toContain(meanwhile);
    await stop(after);
    await exited(after);
  });

  it('builds a queued answer at its turn, not while it waits', async () => {
    const first = await spawn();
    const { socket, received } = await connect();
    socket.write(`GET /spawns/${first}/events HTTP/1.1\r\nHost: x\r\n\r\nGET /spawns HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(() => received().includes('current state'), 5000, { description: 'the event stream' });

    const meanwhile = await spawn();
    await stop(first);
    const list = () => received().split('HTTP/1.1 200 OK')[2] ?? '';
    await waitFor(() => list().includes(first), 5000, { description: 'the list' });
    expect(list()).toContain(meanwhile);
    await stop(meanwhile);
    await exited(meanwhile);
  });
});
