import type { EnvReader } from '../env-reader';
import { MIN_PERIOD_S } from '../setting-parsers';
import { settingsSection, type SettingsOf } from '../settings-section';

/** The liveliness protocol's clocks: report period, initial use, ready and ping timeouts, kill grace, sweep period. */
export const TIMING_SETTINGS = settingsSection('TimingSettings', [
  'livelinessIntervalS',
  'initialUseDurationS',
  'readyTimeoutS',
  'pingTimeoutS',
  'killGraceS',
  'sweepIntervalMs',
]);
export type TimingSettings = SettingsOf<typeof TIMING_SETTINGS>;

export function readTiming(read: EnvReader): TimingSettings {
  // Every server reports this often: at 0.001 s, 32 servers would send the node 32,000 requests a second.
  const livelinessIntervalS = read.seconds('SC_LIVELINESS_INTERVAL_S', 5, MIN_PERIOD_S);
  const initialUseDurationS = read.seconds('SC_INITIAL_USE_DURATION_S', 60);
  const readyTimeoutS = read.seconds('SPAWN_READY_TIMEOUT_S', 30);
  const pingTimeoutS = read.seconds('PING_TIMEOUT_S', 3 * livelinessIntervalS + 2);
  if (pingTimeoutS <= livelinessIntervalS) {
    read.problems.push(
      `PING_TIMEOUT_S (${pingTimeoutS}) must be longer than SC_LIVELINESS_INTERVAL_S (${livelinessIntervalS}), or every server would be killed between two pings`,
    );
  }
  const killGraceS = read.seconds('KILL_GRACE_S', 5);
  const sweepIntervalMs = read.int('SWEEP_INTERVAL_MS', 1000, 10, 60000);
  return { livelinessIntervalS, initialUseDurationS, readyTimeoutS, pingTimeoutS, killGraceS, sweepIntervalMs };
}
