import { REFUSAL_LOG_WINDOW_MS } from '../logging/refusal-log';
import type { RejectionReason } from '../metrics/spawner-metrics';
import { ConnectRefusals } from './connect-refusals';

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
});
