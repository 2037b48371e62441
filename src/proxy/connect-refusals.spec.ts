import { PassThrough } from 'stream';
import { REFUSAL_LOG_WINDOW_MS } from '../logging/refusal-log';
import type { RejectionReason } from '../metrics/spawner-metrics';
import { ConnectRefusals } from './connect-refusals';
import { shuttingDownRefusal } from './spawn-on-connect';

describe('ConnectRefusals', () => {
  function setup() {
    const counted: RejectionReason[] = [];
    const lines: Array<['log' | 'debug', string]> = [];
    let now = Date.UTC(2026, 11, 6, 12, 0, 0);
    const refusals = new ConnectRefusals(
      { rejected: (reason) => void counted.push(reason) },
      {
        log: (line: string) => void lines.push(['log', line]),
        debug: (line: string) => void lines.push(['debug', line]),
      },
      () => now,
    );
    return { refusals, counted, lines, advance: (ms: number) => (now += ms) };
  }
  const full = { status: 503, message: 'all 1 spawn slots are in use', reason: 'capacity', stormKey: 'slots' } as const;

  it("counts every refusal with a reason, and writes a full node's once per reason per window", () => {
    const { refusals, counted, lines, advance } = setup();
    for (let i = 0; i < 5; i++) refusals.refused(full);
    refusals.refused({ status: 503, message: 'no free WebSocket port', reason: 'ports', stormKey: 'ports' });
    expect(counted).toEqual(['capacity', 'capacity', 'capacity', 'capacity', 'capacity', 'ports']);
    expect(lines.filter(([level]) => level === 'log')).toEqual([
      ['log', 'spawn on connect refused with 503: all 1 spawn slots are in use'],
      ['log', 'spawn on connect refused with 503: no free WebSocket port'],
    ]);
    // Left out at info, still a debug line each.
    expect(lines.filter(([level]) => level === 'debug')).toHaveLength(4);
    advance(REFUSAL_LOG_WINDOW_MS);
    refusals.refused(full);
    expect(lines.at(-1)).toEqual([
      'log',
      'spawn on connect refused with 503: all 1 spawn slots are in use (and 4 more spawns on connect refused for slots ' +
        'since 2026-12-06T12:00:00.000Z, not logged)',
    ]);
  });

  it('writes every other refusal, and counts only those with a reason', () => {
    const { refusals, counted, lines } = setup();
    for (let i = 0; i < 3; i++) refusals.refused({ status: 401, message: 'the spawn ticket is not valid' });
    refusals.refused({ status: 429, message: 'SPAWN_RATE_LIMIT reached', reason: 'rate_limit' });
    refusals.refused({ status: 429, message: 'SPAWN_RATE_LIMIT reached', reason: 'rate_limit' });
    expect(counted).toEqual(['rate_limit', 'rate_limit']);
    expect(lines.map(([level]) => level)).toEqual(['log', 'log', 'log', 'log', 'log']);
  });

  it('answers the upgrade with the refusal, counted and logged; a viewer already gone is counted but gets nothing', async () => {
    const { refusals, counted, lines } = setup();
    const socket = new PassThrough();
    const written: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => written.push(chunk));
    refusals.answer(socket, shuttingDownRefusal());
    await new Promise((resolve) => socket.once('close', resolve));
    const answer = Buffer.concat(written).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(answer).toMatch(/\r\nRetry-After: \d+\r\n/);
    expect(answer).toMatch(/the service is shutting down; try another server\n$/);
    const gone = new PassThrough();
    gone.destroy();
    refusals.answer(gone, shuttingDownRefusal());
    expect(counted).toEqual(['shutting_down', 'shutting_down']);
    expect(lines).toEqual([
      ['log', 'spawn on connect refused with 503: the service is shutting down; try another server'],
      ['debug', 'spawn on connect refused with 503: the service is shutting down; try another server'],
    ]);
  });
});
