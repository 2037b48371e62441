import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';
import type { CapacitySettings } from './capacity.section';
import type { RenderingSettings } from './rendering.section';

/** Ready servers kept for requests that need no options, and how long one may wait unclaimed. */
export const WARM_POOL_SETTINGS = settingsSection('WarmPoolSettings', ['warmPool', 'warmMaxAgeS']);
export type WarmPoolSettings = SettingsOf<typeof WARM_POOL_SETTINGS>;

export function readWarmPool(
  read: EnvReader,
  limits: Pick<CapacitySettings, 'maxSpawns'> & Pick<RenderingSettings, 'csrEnabled' | 'ssrEnabled'>,
): WarmPoolSettings {
  const warmPool = {
    csr: read.int('SC_WARM_POOL_CSR', 0, 0, 10000),
    ssr: read.int('SC_WARM_POOL_SSR', 0, 0, 10000),
  };
  const warmMaxAgeS = read.seconds('SC_WARM_MAX_AGE_S', 600);
  const { csr, ssr } = warmPool;
  if (csr + ssr > limits.maxSpawns) {
    read.problems.push(
      `SC_WARM_POOL_CSR + SC_WARM_POOL_SSR (${csr} + ${ssr}) must not exceed SC_MAX_SPAWNS (${limits.maxSpawns}): warm servers hold spawn slots`,
    );
  }
  if (csr > 0 && !limits.csrEnabled) read.problems.push('SC_WARM_POOL_CSR must be 0 when CSR_ENABLED=false');
  if (ssr > 0 && !limits.ssrEnabled) read.problems.push('SC_WARM_POOL_SSR must be 0 when SSR_ENABLED=false');
  return { warmPool, warmMaxAgeS };
}
