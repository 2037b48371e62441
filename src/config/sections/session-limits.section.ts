import type { EnvReader } from '../env-reader';
import { parseKeyQuotas } from '../session-limit-settings';
import { settingsSection, type SettingsOf } from '../settings-section';

/** How long a session may last (idle, in all), when its end is announced, and how many one caller may hold. */
export const SESSION_LIMITS_SETTINGS = settingsSection('SessionLimitsSettings', [
  'idleTimeoutS',
  'maxSessionS',
  'endWarningS',
  'keyQuotas',
]);
export type SessionLimitsSettings = SettingsOf<typeof SESSION_LIMITS_SETTINGS>;

export function readSessionLimits(read: EnvReader): SessionLimitsSettings {
  return {
    idleTimeoutS: secondsOrOff(read, 'SC_IDLE_TIMEOUT_S', 0),
    maxSessionS: secondsOrOff(read, 'SC_MAX_SESSION_S', 0),
    endWarningS: secondsOrOff(read, 'SC_END_WARNING_S', 60),
    keyQuotas: parseKeyQuotas(read),
  };
}

/** A number of seconds, 0 allowed (off). */
function secondsOrOff(read: EnvReader, name: string, fallback: number): number {
  const raw = read.raw(name);
  if (raw === undefined) {
    const entry = read.seen.get(name);
    if (entry && entry.value === undefined) entry.fallback = fallback;
    return fallback;
  }
  const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value > 31_536_000) {
    read.problems.push(
      `${name} must be a number of seconds from 0 (off) to 31536000 (fractions allowed), got ${JSON.stringify(raw)}`,
    );
    return fallback;
  }
  return value;
}
