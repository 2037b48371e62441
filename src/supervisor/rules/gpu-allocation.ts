import type { RendererType } from '@app/sc-protocol';

/** What the GPU choice needs to know of a live spawn. */
export interface GpuUser {
  rendererType: RendererType;
  gpuIndex?: number;
}

/** Live SSR sessions per GPU index 0..gpuCount-1 (`{"0": n0, "1": n1}`), as /api/status shows it. */
export function gpuAllocation(live: readonly GpuUser[], gpuCount: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let index = 0; index < gpuCount; index++) counts[String(index)] = 0;
  for (const spawn of live) {
    if (spawn.rendererType !== 'ssr' || spawn.gpuIndex === undefined) continue;
    const key = String(spawn.gpuIndex);
    if (key in counts) counts[key]++;
  }
  return counts;
}

/** The GPU with the fewest live SSR sessions; on a tie the lowest index. */
export function chooseGpu(live: readonly GpuUser[], gpuCount: number): number {
  const counts = gpuAllocation(live, gpuCount);
  let best = 0;
  for (let index = 1; index < gpuCount; index++) {
    if (counts[String(index)] < counts[String(best)]) best = index;
  }
  return best;
}
