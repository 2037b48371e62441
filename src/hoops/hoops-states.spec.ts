import { SpawnRecord, viewOf } from '../supervisor/rules/spawn-record';
import type { SpawnState } from '../supervisor/rules/spawn-state';
import { HOOPS_STATES, hoopsStateCounts, hoopsStateOf } from './hoops-states';

const T0 = 1_000_000;
const SETTINGS = { livelinessIntervalS: 5, killGraceS: 5 };

function spawn(state: SpawnState, fields: Partial<SpawnRecord> = {}) {
  const record = new SpawnRecord({ id: `s-${state}`, wsPort: 11000, rendererType: 'csr', origin: 'api' }, T0);
  Object.assign(record, { state, ...fields });
  return viewOf(record);
}

describe('HOOPS Server states', () => {
  it.each<[SpawnState, string]>([
    ['starting', 'launching'],
    ['ready', 'ready'],
    ['connected', 'ready'],
    ['disconnected', 'disconnected'],
    ['unresponsive', 'suspect'],
    ['timed_out', 'suspect'],
    ['terminating', 'nice-killed'],
    ['failed', 'dead'],
    ['exited', 'dead'],
  ])('%s is %s', (state, hoops) => {
    expect(hoopsStateOf(spawn(state, { lastReportAt: T0 }), T0 + 1000, SETTINGS)).toBe(hoops);
  });

  it('a ready or connected spawn is suspect once no report came for 2·I+2 s', () => {
    const quiet = spawn('ready', { readyAt: T0, lastReportAt: T0 });
    expect(hoopsStateOf(quiet, T0 + 12_000, SETTINGS)).toBe('ready');
    expect(hoopsStateOf(quiet, T0 + 12_001, SETTINGS)).toBe('suspect');
    expect(hoopsStateOf(spawn('connected', { lastReportAt: T0 }), T0 + 20_000, SETTINGS)).toBe('suspect');
    expect(hoopsStateOf(quiet, T0 + 12_001, { ...SETTINGS, livelinessIntervalS: 10 })).toBe('ready');
  });

  it('terminating: killed once SIGKILL is sent, zombie when still there a kill grace later', () => {
    const killed = spawn('terminating', { stopRequestedAt: T0, sigkillSentAt: T0 + 5000 });
    expect(hoopsStateOf(killed, T0 + 6000, SETTINGS)).toBe('killed');
    expect(hoopsStateOf(killed, T0 + 10_001, SETTINGS)).toBe('zombie');
  });

  it('counts every HOOPS state, zeros included', () => {
    const counts = hoopsStateCounts(
      [
        spawn('starting'),
        spawn('ready', { lastReportAt: T0 }),
        spawn('connected', { lastReportAt: T0 }),
        spawn('exited'),
      ],
      T0 + 1000,
      SETTINGS,
    );
    expect(Object.keys(counts)).toEqual([...HOOPS_STATES]);
    expect(counts).toEqual({
      launching: 1,
      ready: 2,
      suspect: 0,
      disconnected: 0,
      'nice-killed': 0,
      killed: 0,
      zombie: 0,
      dead: 1,
    });
  });
});
