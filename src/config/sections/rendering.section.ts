import type { EnvReader } from '../env-reader';
import { settingsSection, type SettingsOf } from '../settings-section';

/** Which rendering modes are offered and how SSR servers find a display and a GPU; spawn on connect. */
export const RENDERING_SETTINGS = settingsSection('RenderingSettings', [
  'csrEnabled',
  'ssrEnabled',
  'ssrDisplay',
  'ssrEgl',
  'ssrGpuIndex',
  'ssrGpuCount',
  'spawnOnConnect',
]);
export type RenderingSettings = SettingsOf<typeof RENDERING_SETTINGS>;

export function readRendering(read: EnvReader): RenderingSettings {
  const csrEnabled = read.bool('CSR_ENABLED', true);
  const ssrEnabled = read.bool('SSR_ENABLED', true);
  const ssrDisplay = read.string('DISPLAY') ?? ':0';
  const ssrEgl = read.bool('SC_SSR_EGL', false);
  const gpu = read.raw('SC_SSR_GPU_INDEX');
  const ssrGpuIndex = gpu === undefined ? undefined : read.int('SC_SSR_GPU_INDEX', 0, 0, 1024);
  const gpuCount = read.raw('SC_SSR_GPU_COUNT');
  const ssrGpuCount = gpuCount === undefined ? undefined : read.int('SC_SSR_GPU_COUNT', 1, 1, 1024);
  if (gpu !== undefined && gpuCount !== undefined) {
    read.problems.push(
      'SC_SSR_GPU_INDEX and SC_SSR_GPU_COUNT are both set: set SC_SSR_GPU_INDEX to pin every SSR server to one GPU, or SC_SSR_GPU_COUNT to spread them over several',
    );
  }
  const spawnOnConnect = read.bool('SPAWN_ON_CONNECT', true);
  return { csrEnabled, ssrEnabled, ssrDisplay, ssrEgl, ssrGpuIndex, ssrGpuCount, spawnOnConnect };
}
