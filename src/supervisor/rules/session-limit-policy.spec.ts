import { decideSessionLimits, effectiveLifetimeS, SessionLimitSettings } from './session-limit-policy';
import { SpawnRecord } from './spawn-record';
import type { SpawnState } from './spawn-state';

const T0 = Date.UTC(2026, 0, 1);
const at = (s: number) => T0 + s * 1000;
const OFF: SessionLimitSettings = { idleTimeoutS: 0, maxSessionS: 0, endWarningS: 60 };

function session(state: SpawnState = 'connected', fields: Partial<SpawnRecord> = {}): SpawnRecord {
  const record = new SpawnRecord({ id: 's1', wsPort: 40000, rendererType: 'csr', origin: 'api' }, T0);
  record.state = state;
  record.watched = true;
  Object.assign(record, fields);
  return record;
}

describe('decideSessionLimits (pure)', () => {
  it('decides nothing with both limits off', () => {
    expect(decideSessionLimits([session()], at(1e6), OFF)).toEqual([]);
  });

  it('idle: warns SC_END_WARNING_S before the end, then ends with 4001 "idle timeout"', () => {
    const settings = { ...OFF, idleTimeoutS: 300 };
    const record = session();
    expect(decideSessionLimits([record], at(239.999), settings)).toEqual([]);
    expect(decideSessionLimits([record], at(240), settings)).toEqual([
      { kind: 'warn', id: 's1', reason: 'idle', secondsLeft: 60 },
    ]);
    record.expiring = { reason: 'idle', secondsLeft: 60, at: at(240) };
    // Warned once: nothing more until the end.
    expect(decideSessionLimits([record], at(299.9), settings)).toEqual([]);
    expect(decideSessionLimits([record], at(300), settings)).toEqual([
      {
        kind: 'end',
        id: 's1',
        reason: 'idle',
        closeCode: 4001,
        closeReason: 'idle timeout',
        message: 'idle timeout: its viewer sent nothing for 300 s',
      },
    ]);
  });

  it('idle: counts from the last viewer message; activity after a warning cancels it', () => {
    const settings = { ...OFF, idleTimeoutS: 300 };
    const record = session('connected', { lastActivityAt: at(250) });
    expect(decideSessionLimits([record], at(300), settings)).toEqual([]);
    record.expiring = { reason: 'idle', secondsLeft: 60, at: at(240) };
    expect(decideSessionLimits([record], at(300), settings)).toEqual([
      { kind: 'cancel_warning', id: 's1', reason: 'idle' },
    ]);
    expect(decideSessionLimits([record], at(549.9), settings)).toEqual([]);
  });

  it('idle: a viewer joining at /ws/<token> starts the idle clock there', () => {
    const record = session('connected', { connectedAt: at(1000) });
    expect(decideSessionLimits([record], at(1100), { ...OFF, idleTimeoutS: 300 })).toEqual([]);
  });

  it('idle: the time the service stalled is no idle time (what its viewer sent is unread); the lifetime is', () => {
    const idle = { idleTimeoutS: 10, maxSessionS: 0, endWarningS: 0 };
    const record = session('connected', { lastActivityAt: at(5) });
    // The service did not run from 6 s to 26 s.
    const stalls = [{ at: at(26), ms: 20_000 }];
    expect(decideSessionLimits([record], at(26), idle, stalls)).toEqual([]);
    expect(decideSessionLimits([record], at(34.999), idle, stalls)).toEqual([]);
    expect(decideSessionLimits([record], at(35), idle, stalls)).toMatchObject([{ kind: 'end', reason: 'idle' }]);
    const lifetime = { idleTimeoutS: 0, maxSessionS: 30, endWarningS: 0 };
    expect(decideSessionLimits([record], at(30), lifetime, stalls)).toMatchObject([
      { kind: 'end', reason: 'lifetime' },
    ]);
  });

  it('idle: never for a session the relay does not carry', () => {
    const record = session('ready', { watched: false });
    expect(decideSessionLimits([record], at(1e6), { ...OFF, idleTimeoutS: 10 })).toEqual([]);
  });

  it('lifetime: ends an active session with 4002 "lifetime reached"; its warning is not cancelled by activity', () => {
    const settings = { ...OFF, maxSessionS: 600 };
    const record = session('connected', { lastActivityAt: at(599) });
    expect(decideSessionLimits([record], at(540), settings)).toEqual([
      { kind: 'warn', id: 's1', reason: 'lifetime', secondsLeft: 60 },
    ]);
    record.expiring = { reason: 'lifetime', secondsLeft: 60, at: at(540) };
    expect(decideSessionLimits([record], at(599), settings)).toEqual([]);
    expect(decideSessionLimits([record], at(600), settings)).toMatchObject([
      { kind: 'end', reason: 'lifetime', closeCode: 4002, closeReason: 'lifetime reached' },
    ]);
  });

  it('a limit shorter than the warning warns at once (max(0, limit - warning))', () => {
    expect(decideSessionLimits([session()], at(0), { ...OFF, maxSessionS: 20 })).toEqual([
      { kind: 'warn', id: 's1', reason: 'lifetime', secondsLeft: 20 },
    ]);
  });

  it('SC_END_WARNING_S=0: no warning, only the end', () => {
    const settings = { idleTimeoutS: 0, maxSessionS: 20, endWarningS: 0 };
    expect(decideSessionLimits([session()], at(19.9), settings)).toEqual([]);
    expect(decideSessionLimits([session()], at(20), settings)).toMatchObject([{ kind: 'end' }]);
  });

  it("a request's lower maxSessionS wins over the node's limit", () => {
    const record = session('connected', { maxSessionS: 30 });
    expect(decideSessionLimits([record], at(30), { ...OFF, maxSessionS: 600 })).toMatchObject([
      { kind: 'end', reason: 'lifetime', message: 'lifetime reached: it ran for 30 s' },
    ]);
    expect(effectiveLifetimeS(0, 30)).toBe(30);
    expect(effectiveLifetimeS(600, undefined)).toBe(600);
    expect(effectiveLifetimeS(20, 30)).toBe(20);
  });

  it('the earlier of two limits ends the session', () => {
    const record = session();
    expect(
      decideSessionLimits([record], at(100), { idleTimeoutS: 100, maxSessionS: 100, endWarningS: 5 }),
    ).toMatchObject([{ kind: 'end', reason: 'lifetime' }]);
    expect(decideSessionLimits([record], at(50), { idleTimeoutS: 50, maxSessionS: 100, endWarningS: 5 })).toMatchObject(
      [{ kind: 'end', reason: 'idle' }],
    );
  });

  it('a warm server: nothing while unclaimed; its clocks start at the claim', () => {
    const record = new SpawnRecord({ id: 'w', wsPort: 40000, rendererType: 'csr', origin: 'api', warm: true }, T0);
    record.state = 'ready';
    record.watched = true;
    const settings = { idleTimeoutS: 0, maxSessionS: 100, endWarningS: 0 };
    expect(decideSessionLimits([record], at(500), settings)).toEqual([]);
    record.claimedAt = at(500);
    expect(decideSessionLimits([record], at(599), settings)).toEqual([]);
    expect(decideSessionLimits([record], at(600), settings)).toMatchObject([{ kind: 'end', id: 'w' }]);
  });

  it.each(['starting', 'terminating', 'disconnected', 'exited'] as const)('nothing for a %s session', (state) => {
    expect(decideSessionLimits([session(state)], at(1e6), { ...OFF, idleTimeoutS: 1, maxSessionS: 1 })).toEqual([]);
  });

  it('nothing once a stop was asked for (it is ending already)', () => {
    const record = session('connected', { stopRequestedAt: at(1) });
    expect(decideSessionLimits([record], at(1e6), { ...OFF, maxSessionS: 1 })).toEqual([]);
  });
});
