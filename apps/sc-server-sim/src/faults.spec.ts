import {
  FAULT_NAMES,
  FaultSpecError,
  NO_FAULTS,
  ignoresInitialUse,
  isFaultModel,
  parseFaults,
  selectFaults,
} from './faults';

describe('parseFaults', () => {
  it.each([
    ['never-ready', { neverReady: true }],
    ['ignore-sigterm', { ignoreSigterm: true }],
    ['spawn-grandchild', { spawnGrandchild: true }],
    ['exit-before-ready:4', { exitBeforeReady: 4 }],
    ['exit-before-ready:0', { exitBeforeReady: 0 }],
    ['exit-before-ready:255', { exitBeforeReady: 255 }],
    ['slow-ready:300', { slowReadyMs: 300 }],
    ['crash-after:0', { crashAfterMs: 0 }],
    ['crash-after:1500', { crashAfterMs: 1500 }],
    ['stop-pinging-after:250', { stopPingingAfterMs: 250 }],
    ['disconnect-after:0', { disconnectAfterMs: 0 }],
  ])('%s', (spec, expected) => {
    expect(parseFaults(spec)).toEqual({ ...NO_FAULTS, names: [spec], ...expected });
  });

  it('knows every fault it documents', () => {
    expect([...FAULT_NAMES].sort()).toEqual(
      [
        'crash-after',
        'exit-before-ready',
        'ignore-sigterm',
        'never-ready',
        'slow-ready',
        'spawn-grandchild',
        'stop-pinging-after',
        'disconnect-after',
      ].sort(),
    );
  });

  it('combines faults separated by commas', () => {
    expect(parseFaults('spawn-grandchild, ignore-sigterm,slow-ready:10')).toEqual({
      ...NO_FAULTS,
      names: ['spawn-grandchild', 'ignore-sigterm', 'slow-ready:10'],
      spawnGrandchild: true,
      ignoreSigterm: true,
      slowReadyMs: 10,
    });
  });

  it.each([
    ['bogus', /unknown fault "bogus"/],
    ['', /unknown fault ""/],
    ['never-ready,', /unknown fault ""/],
    ['NEVER-READY', /unknown fault/],
    ['never-ready:1', /never-ready takes no parameter/],
    ['ignore-sigterm:yes', /takes no parameter/],
    ['exit-before-ready', /exit-before-ready needs an exit code from 0 to 255/],
    ['exit-before-ready:', /needs an exit code/],
    ['exit-before-ready:256', /needs an exit code/],
    ['exit-before-ready:-1', /needs an exit code/],
    ['exit-before-ready:x', /needs an exit code/],
    ['slow-ready', /slow-ready needs milliseconds/],
    ['slow-ready:1.5', /needs milliseconds/],
    ['crash-after:soon', /crash-after needs milliseconds/],
    ['stop-pinging-after:99999999999', /needs milliseconds/],
  ])('rejects %j', (spec, message) => {
    expect(() => parseFaults(spec)).toThrow(FaultSpecError);
    expect(() => parseFaults(spec)).toThrow(message);
  });
});

describe('selectFaults', () => {
  it('is no fault without env or scsim: model', () => {
    expect(selectFaults(undefined, undefined)).toBe(NO_FAULTS);
    expect(selectFaults('', 'engine')).toBe(NO_FAULTS);
    expect(selectFaults('  ', undefined)).toBe(NO_FAULTS);
  });

  it('reads env SCSIM_FAULT', () => {
    expect(selectFaults('never-ready', 'engine').neverReady).toBe(true);
  });

  it('reads a scsim: model file, which wins over the env', () => {
    const faults = selectFaults('never-ready', 'scsim:crash-after:5');
    expect(faults.neverReady).toBe(false);
    expect(faults.crashAfterMs).toBe(5);
  });

  it('rejects an unknown fault from either source', () => {
    expect(() => selectFaults('nope', undefined)).toThrow(FaultSpecError);
    expect(() => selectFaults(undefined, 'scsim:nope')).toThrow(FaultSpecError);
    expect(() => selectFaults(undefined, 'scsim:')).toThrow(FaultSpecError);
  });
});

describe('isFaultModel / ignoresInitialUse', () => {
  it('recognises the scsim: prefix only at the start', () => {
    expect(isFaultModel('scsim:never-ready')).toBe(true);
    expect(isFaultModel('models/scsim:x')).toBe(false);
    expect(isFaultModel(null)).toBe(false);
    expect(isFaultModel(undefined)).toBe(false);
  });

  it('keeps hung, never-ready and unkillable simulators alive past the initial-use duration', () => {
    expect(ignoresInitialUse(NO_FAULTS)).toBe(false);
    expect(ignoresInitialUse(parseFaults('slow-ready:5'))).toBe(false);
    expect(ignoresInitialUse(parseFaults('crash-after:5'))).toBe(false);
    expect(ignoresInitialUse(parseFaults('spawn-grandchild'))).toBe(false);
    expect(ignoresInitialUse(parseFaults('never-ready'))).toBe(true);
    expect(ignoresInitialUse(parseFaults('ignore-sigterm'))).toBe(true);
    expect(ignoresInitialUse(parseFaults('stop-pinging-after:5'))).toBe(true);
  });
});
