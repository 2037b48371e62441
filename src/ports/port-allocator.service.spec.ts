import { Logger } from '@nestjs/common';
import { CAPACITY_SETTINGS, parseAppConfig, pickSection } from '../config';
import { FakeClock, FakePortProbe, isLeased } from '../../test/fakes';
import { BUSY_PORT_RETRY_MS, PortAllocator } from './port-allocator.service';

const BASE = 40000;

function setup(count = 5) {
  const config = pickSection(
    parseAppConfig({
      SC_PORT_BASE: String(BASE),
      SC_PORT_COUNT: String(count),
      SC_MAX_SPAWNS: '2',
    }),
    CAPACITY_SETTINGS,
  );
  const probe = new FakePortProbe();
  const clock = new FakeClock(1_700_000_000_000);
  const allocator = new PortAllocator(config, probe, clock);
  return { config, probe, clock, allocator };
}

beforeAll(() => Logger.overrideLogger(false));

describe('PortAllocator', () => {
  it('leases every port of [base, base+count) exactly once, then null', async () => {
    const { allocator } = setup(5);
    const leased: Array<number | null> = [];
    for (let i = 0; i < 6; i++) leased.push(await allocator.lease());
    expect(leased).toEqual([BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4, null]);
    for (const port of leased.slice(0, 5)) expect(isLeased(allocator, port!)).toBe(true);
    expect(isLeased(allocator, BASE + 5)).toBe(false);
    expect(isLeased(allocator, BASE - 1)).toBe(false);
  });

  it('hands ports out round-robin: a released port is reused only after the others', async () => {
    const { allocator } = setup(3);
    const a = await allocator.lease();
    const b = await allocator.lease();
    expect([a, b]).toEqual([BASE, BASE + 1]);
    allocator.release(a!);
    // BASE is free again, but the cursor moves on to BASE+2 first.
    expect(await allocator.lease()).toBe(BASE + 2);
    expect(await allocator.lease()).toBe(BASE);
    expect(await allocator.lease()).toBeNull();
    allocator.release(b!);
    expect(await allocator.lease()).toBe(BASE + 1);
  });

  it('release only puts the port back: it becomes leasable again, and nothing else changes', async () => {
    const { allocator } = setup(2);
    const a = (await allocator.lease())!;
    const b = (await allocator.lease())!;
    expect(await allocator.lease()).toBeNull();
    allocator.release(b);
    expect(isLeased(allocator, a)).toBe(true);
    expect(isLeased(allocator, b)).toBe(false);
    expect(allocator.counts()).toEqual({ total: 2, leased: 1, busy: 0, free: 1 });
    expect(await allocator.lease()).toBe(b);
    expect(await allocator.lease()).toBeNull();
  });

  it('releasing a port that is not leased is harmless', async () => {
    const { allocator } = setup(2);
    allocator.release(BASE + 1);
    allocator.release(12345);
    expect(allocator.counts()).toEqual({ total: 2, leased: 0, busy: 0, free: 2 });
    expect(await allocator.lease()).toBe(BASE);
  });

  it('probes the port before handing it out and skips a busy one', async () => {
    const { allocator, probe } = setup(3);
    probe.busy.add(BASE);
    expect(await allocator.lease()).toBe(BASE + 1);
    expect(probe.probed).toEqual([BASE, BASE + 1]);
    expect(isLeased(allocator, BASE)).toBe(false);
    expect(allocator.counts()).toEqual({ total: 3, leased: 1, busy: 1, free: 1 });
  });

  it('keeps a busy port out of rotation for BUSY_PORT_RETRY_MS, then tries it again', async () => {
    const { allocator, probe, clock } = setup(2);
    probe.busy.add(BASE);
    const first = await allocator.lease();
    expect(first).toBe(BASE + 1);
    allocator.release(first!);
    probe.busy.delete(BASE); // the other program let go, but we do not know yet
    probe.probed.length = 0;

    clock.advance(BUSY_PORT_RETRY_MS - 1);
    expect(await allocator.lease()).toBe(BASE + 1);
    expect(probe.probed).toEqual([BASE + 1]); // BASE was not even probed
    expect(await allocator.lease()).toBeNull();
    expect(probe.probed).toEqual([BASE + 1]);
    expect(allocator.counts().busy).toBe(1);

    clock.advance(1);
    // Due for a probe, but not free until one finds it free.
    expect(allocator.counts().busy).toBe(1);
    expect(await allocator.lease()).toBe(BASE);
    expect(probe.probed).toEqual([BASE + 1, BASE]);
    expect(allocator.counts()).toEqual({ total: 2, leased: 2, busy: 0, free: 0 });
  });

  it('a port still busy when retried is kept out for another BUSY_PORT_RETRY_MS', async () => {
    const { allocator, probe, clock } = setup(1);
    probe.busy.add(BASE);
    expect(await allocator.lease()).toBeNull();
    clock.advance(BUSY_PORT_RETRY_MS);
    expect(await allocator.lease()).toBeNull();
    expect(probe.probed).toEqual([BASE, BASE]);
    clock.advance(BUSY_PORT_RETRY_MS - 1);
    expect(await allocator.lease()).toBeNull();
    expect(probe.probed).toHaveLength(2);
    probe.busy.clear();
    clock.advance(1);
    expect(await allocator.lease()).toBe(BASE);
  });

  it('a probe that cannot tell (EMFILE) marks no port held, and says why the lease found none', async () => {
    const { allocator, probe } = setup(3);
    probe.failing = 'listen EMFILE: too many open files';
    expect(await allocator.lease()).toBeNull();
    await allocator.refresh();
    expect(allocator.counts()).toEqual({
      total: 3,
      leased: 0,
      busy: 0,
      free: 3,
      probeFailure: 'listen EMFILE: too many open files',
    });
    expect(await allocator.confirmBusy(BASE)).toBe(false);
    probe.failing = undefined;
    expect(await allocator.lease()).toBe(BASE);
    expect(allocator.counts().probeFailure).toBeUndefined();
  });

  it('returns null when every port is busy, without leasing any', async () => {
    const { allocator, probe } = setup(3);
    for (let p = BASE; p < BASE + 3; p++) probe.busy.add(p);
    expect(await allocator.lease()).toBeNull();
    expect(probe.probed.sort()).toEqual([BASE, BASE + 1, BASE + 2]);
    expect(allocator.counts()).toEqual({ total: 3, leased: 0, busy: 3, free: 0 });
  });

  it('counts(): total, leased, busy and free add up', async () => {
    const { allocator, probe, clock } = setup(6);
    expect(allocator.counts()).toEqual({ total: 6, leased: 0, busy: 0, free: 6 });
    probe.busy.add(BASE + 1);
    await allocator.lease(); // BASE
    await allocator.lease(); // skips BASE+1, takes BASE+2
    expect(allocator.counts()).toEqual({ total: 6, leased: 2, busy: 1, free: 3 });
    allocator.markBusy(BASE + 5);
    expect(allocator.counts()).toEqual({ total: 6, leased: 2, busy: 2, free: 2 });
    clock.advance(BUSY_PORT_RETRY_MS);
    expect(allocator.counts()).toEqual({ total: 6, leased: 2, busy: 2, free: 2 });
    probe.busy.clear();
    await allocator.refresh();
    expect(allocator.counts()).toEqual({ total: 6, leased: 2, busy: 0, free: 4 });
  });

  describe('refresh(): free counts only ports that could be leased now', () => {
    it('finds a range another program took before any lease: nothing free', async () => {
      const { allocator, probe } = setup(3);
      for (let p = BASE; p < BASE + 3; p++) probe.busy.add(p);
      await allocator.refresh();
      expect(probe.probed).toEqual([BASE, BASE + 1, BASE + 2]);
      expect(allocator.counts()).toEqual({ total: 3, leased: 0, busy: 3, free: 0 });
    });

    it('a port found held stays busy after BUSY_PORT_RETRY_MS while it is still held, free once a probe finds it free', async () => {
      const { allocator, probe, clock } = setup(3);
      for (let p = BASE; p < BASE + 3; p++) probe.busy.add(p);
      expect(await allocator.lease()).toBeNull();
      clock.advance(BUSY_PORT_RETRY_MS + 1);
      expect(allocator.counts()).toEqual({ total: 3, leased: 0, busy: 3, free: 0 });
      await allocator.refresh();
      expect(allocator.counts()).toEqual({ total: 3, leased: 0, busy: 3, free: 0 });

      probe.busy.clear();
      clock.advance(BUSY_PORT_RETRY_MS - 1);
      await allocator.refresh();
      expect(allocator.counts().busy).toBe(3); // within the window: not probed again
      clock.advance(1);
      await allocator.refresh();
      expect(allocator.counts()).toEqual({ total: 3, leased: 0, busy: 0, free: 3 });
    });

    it('says what a pass found in one line each, not one per port: a range held, then let go', async () => {
      const warn = jest.spyOn(Logger.prototype, 'warn');
      const log = jest.spyOn(Logger.prototype, 'log');
      try {
        const { allocator, probe, clock } = setup(600);
        for (let p = BASE; p < BASE + 600; p++) if (p !== BASE + 300) probe.busy.add(p);
        await allocator.refresh();
        expect(warn.mock.calls).toEqual([
          [
            `599 port(s) ${BASE}-${BASE + 299}, ${BASE + 301}-${BASE + 599}: held by another program; probing again every 10 s`,
          ],
        ]);
        probe.busy.clear();
        clock.advance(BUSY_PORT_RETRY_MS);
        await allocator.refresh();
        expect(log.mock.calls).toEqual([
          [`599 port(s) ${BASE}-${BASE + 299}, ${BASE + 301}-${BASE + 599}: no longer held by another program`],
        ]);
        expect(warn).toHaveBeenCalledTimes(1);
      } finally {
        warn.mockRestore();
        log.mockRestore();
      }
    });

    it('probes each port at most once per BUSY_PORT_RETRY_MS, and never a leased one', async () => {
      const { allocator, probe, clock } = setup(4);
      const leased = (await allocator.lease())!;
      probe.busy.add(BASE + 2);
      probe.probed.length = 0;
      await allocator.refresh();
      expect(probe.probed).toEqual([BASE + 1, BASE + 2, BASE + 3]);
      await allocator.refresh();
      clock.advance(BUSY_PORT_RETRY_MS - 1);
      await allocator.refresh();
      expect(probe.probed).toHaveLength(3);
      clock.advance(1);
      await allocator.refresh();
      expect(probe.probed.slice(3)).toEqual([BASE + 1, BASE + 2, BASE + 3]);
      expect(probe.probed).not.toContain(leased);
      expect(allocator.counts()).toEqual({ total: 4, leased: 1, busy: 1, free: 2 });
    });

    it('a port taken since it was last found free is seen once its probe is stale', async () => {
      const { allocator, probe, clock } = setup(2);
      await allocator.refresh();
      probe.busy.add(BASE).add(BASE + 1);
      clock.advance(BUSY_PORT_RETRY_MS);
      await allocator.refresh();
      expect(allocator.counts()).toEqual({ total: 2, leased: 0, busy: 2, free: 0 });
    });

    it('concurrent refreshes share one pass; a lease of a port being probed joins that probe', async () => {
      for (let round = 0; round < 10; round++) {
        const { allocator, probe } = setup(8);
        probe.delay = () => Math.floor(Math.random() * 5);
        probe.busy.add(BASE + 3);
        const [, , ports] = await Promise.all([
          allocator.refresh(),
          allocator.refresh(),
          Promise.all([allocator.lease(), allocator.lease()]),
        ]);
        // One bind per port at a time: a second probe of a port this process is binding would find it busy.
        expect(new Set(probe.probed).size).toBe(probe.probed.length);
        expect(ports).not.toContain(null);
        expect(allocator.counts()).toEqual({ total: 8, leased: 2, busy: 1, free: 5 });
      }
    });
  });

  describe('confirmBusy()', () => {
    it('is false for a port we lease ourselves, without probing it', async () => {
      const { allocator, probe } = setup(2);
      const port = (await allocator.lease())!;
      probe.busy.add(port);
      probe.probed.length = 0;
      expect(await allocator.confirmBusy(port)).toBe(false);
      expect(probe.probed).toEqual([]);
      expect(allocator.counts().busy).toBe(0);
    });

    it('is false for a port that probes free, and leaves it in rotation', async () => {
      const { allocator } = setup(2);
      const port = (await allocator.lease())!;
      allocator.release(port);
      expect(await allocator.confirmBusy(port)).toBe(false);
      expect(allocator.counts()).toEqual({ total: 2, leased: 0, busy: 0, free: 2 });
    });

    it('is true for a released port another program now holds, and keeps it out of rotation', async () => {
      const { allocator, probe, clock } = setup(2);
      const port = (await allocator.lease())!;
      allocator.release(port);
      probe.busy.add(port);
      expect(await allocator.confirmBusy(port)).toBe(true);
      expect(allocator.counts()).toEqual({ total: 2, leased: 0, busy: 1, free: 1 });
      probe.busy.delete(port);
      // Round-robin would come back to it after BASE+1; it is skipped while marked busy.
      expect(await allocator.lease()).toBe(BASE + 1);
      expect(await allocator.lease()).toBeNull();
      clock.advance(BUSY_PORT_RETRY_MS);
      expect(await allocator.lease()).toBe(port);
    });
  });

  describe('concurrent leases', () => {
    const randomDelay = () => Math.floor(Math.random() * 8);

    it('50 parallel leases over 40 ports: 40 distinct ports in range, 10 nulls', async () => {
      const { allocator, probe } = setup(40);
      probe.delay = randomDelay;
      const results = await Promise.all(Array.from({ length: 50 }, () => allocator.lease()));
      const ports = results.filter((p): p is number => p !== null);
      expect(ports).toHaveLength(40);
      expect(new Set(ports).size).toBe(40);
      for (const port of ports) {
        expect(port).toBeGreaterThanOrEqual(BASE);
        expect(port).toBeLessThan(BASE + 40);
      }
      expect(results.filter((p) => p === null)).toHaveLength(10);
      expect(allocator.counts()).toEqual({ total: 40, leased: 40, busy: 0, free: 0 });
    });

    it('with some ports busy, parallel leases still get every free port, each once', async () => {
      for (let round = 0; round < 20; round++) {
        const { allocator, probe } = setup(40);
        probe.delay = randomDelay;
        const busy = [1, 2, 3, 10, 17, 18, 30, 39].map((i) => BASE + i);
        for (const port of busy) probe.busy.add(port);
        const results = await Promise.all(Array.from({ length: 50 }, () => allocator.lease()));
        const ports = results.filter((p): p is number => p !== null);
        expect(new Set(ports).size).toBe(ports.length);
        for (const port of busy) expect(ports).not.toContain(port);
        // 32 ports are free: all of them must be handed out, no client refused while one was left.
        expect(ports).toHaveLength(40 - busy.length);
        expect(results.filter((p) => p === null)).toHaveLength(50 - 32);
      }
    });

    it('as many parallel leases as free ports (some ports busy): every one gets a port', async () => {
      for (let round = 0; round < 20; round++) {
        const { allocator, probe } = setup(12);
        probe.delay = randomDelay;
        for (const i of [0, 1, 5, 11]) probe.busy.add(BASE + i);
        const results = await Promise.all(Array.from({ length: 8 }, () => allocator.lease()));
        expect(results).not.toContain(null);
        expect(new Set(results).size).toBe(8);
        expect([...results].sort()).toEqual([2, 3, 4, 6, 7, 8, 9, 10].map((i) => BASE + i));
      }
    });

    it('parallel leases interleaved with releases never hand out a leased port twice', async () => {
      const { allocator, probe } = setup(10);
      probe.delay = randomDelay;
      const held = new Set<number>();
      const worker = async () => {
        for (let i = 0; i < 20; i++) {
          const port = await allocator.lease();
          if (port === null) continue;
          expect(held.has(port)).toBe(false);
          held.add(port);
          await new Promise((r) => setTimeout(r, randomDelay()));
          held.delete(port);
          allocator.release(port);
        }
      };
      await Promise.all(Array.from({ length: 15 }, worker));
      expect(allocator.counts()).toEqual({ total: 10, leased: 0, busy: 0, free: 10 });
    });
  });
});
