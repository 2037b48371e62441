import { chooseGpu, gpuAllocation, type GpuUser } from './gpu-allocation';

const ssr = (gpuIndex: number): GpuUser => ({ rendererType: 'ssr', gpuIndex });

describe('GPU allocation for SSR', () => {
  it('counts live SSR sessions per GPU, every GPU listed, CSR and unplaced spawns ignored', () => {
    expect(gpuAllocation([], 2)).toEqual({ '0': 0, '1': 0 });
    expect(
      gpuAllocation([ssr(1), ssr(1), ssr(0), { rendererType: 'csr' }, { rendererType: 'ssr' }, ssr(7)], 3),
    ).toEqual({ '0': 1, '1': 2, '2': 0 });
  });

  it('picks the GPU with the fewest live SSR sessions, the lowest index on a tie', () => {
    expect(chooseGpu([], 2)).toBe(0);
    expect(chooseGpu([ssr(0)], 2)).toBe(1);
    expect(chooseGpu([ssr(0), ssr(1)], 2)).toBe(0);
    expect(chooseGpu([ssr(0), ssr(0), ssr(1)], 3)).toBe(2);
    expect(chooseGpu([ssr(0), ssr(2), { rendererType: 'csr', gpuIndex: 1 }], 3)).toBe(1);
    expect(chooseGpu([ssr(0), ssr(0)], 1)).toBe(0);
  });

  it('placing spawns one after another spreads them evenly', () => {
    const live: GpuUser[] = [];
    for (let i = 0; i < 7; i++) live.push(ssr(chooseGpu(live, 3)));
    expect(gpuAllocation(live, 3)).toEqual({ '0': 3, '1': 2, '2': 2 });
  });
});
