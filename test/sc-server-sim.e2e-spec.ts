/**
 * End-to-end tests of the ts3d_sc_server simulator: the real executable as a child process, a real
 * HTTP liveliness receiver and real WebSocket viewers. Needs `npm run build` first (npm test does it).
 */
import { randomBytes } from 'crypto';
import { mkdirSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { join } from 'path';
import type { ScServerOptions } from '@app/sc-protocol';
import {
  type LivelinessReceiver,
  type SimulatorProcess,
  type StartSimulatorOptions,
  ViewerRefusedError,
  connectViewer,
  freePort,
  isProcessAlive,
  isProcessGroupAlive,
  makeTempDir,
  simulatorOptions,
  sleep,
  startLivelinessReceiver,
  startSimulator,
  useCleanup,
  waitFor,
} from './support';

const cleanup = useCleanup();
let receiver: LivelinessReceiver;

beforeEach(async () => {
  receiver = await startLivelinessReceiver({ cleanup });
});

interface Started {
  sim: SimulatorProcess;
  id: string;
  port: number;
  wsUrl: string;
  options: ScServerOptions;
}

/** Starts a simulator reporting to the receiver; `endpoint: null` starts it without --liveliness-endpoint. */
async function start(
  overrides: ScServerOptions = {},
  options: StartSimulatorOptions & { endpoint?: string | null } = {},
): Promise<Started> {
  const { endpoint, ...startOptions } = options;
  const simOptions = await simulatorOptions(overrides, endpoint === null ? undefined : (endpoint ?? receiver.url));
  const sim = startSimulator(simOptions, { cleanup, ...startOptions });
  const port = simOptions.scPort!;
  return { sim, id: simOptions.id!, port, wsUrl: `ws://127.0.0.1:${port}`, options: simOptions };
}

async function startReady(overrides: ScServerOptions = {}, options: StartSimulatorOptions = {}): Promise<Started> {
  const started = await start(overrides, options);
  await receiver.waitForReport(started.id, 'ready');
  return started;
}

/** Starts a simulator and waits until it accepts viewers. */
async function startListening(overrides: ScServerOptions = {}, options: StartSimulatorOptions = {}): Promise<Started> {
  const started = await start(overrides, options);
  await started.sim.waitForLine('listening on port', 5000, 'stdout');
  return started;
}

const viewer = (url: string) => connectViewer(url, { cleanup });

/** A fault selected through env SCSIM_FAULT or through --model-file scsim:<fault>. */
type FaultVia = 'env' | 'model';
const VIA: FaultVia[] = ['env', 'model'];
function withFault(
  via: FaultVia,
  fault: string,
  overrides: ScServerOptions = {},
): [ScServerOptions, StartSimulatorOptions] {
  return via === 'env'
    ? [overrides, { env: { SCSIM_FAULT: fault } }]
    : [{ ...overrides, modelFile: `scsim:${fault}` }, {}];
}

function intervals(times: number[]): number[] {
  return times.slice(1).map((at, i) => at - times[i]);
}

describe('liveliness reports', () => {
  it('reports ready once listening, then pings at the configured rate', async () => {
    const { sim, id } = await start({ livelinessUpdateFrequency: 0.2 });
    const ready = await receiver.waitForReport(id, 'ready');
    expect(ready.at - sim.spawnedAt).toBeLessThan(3000);
    await receiver.waitForReport(id, 'ping', 5000, 5);

    const reports = receiver.reportsFor(id);
    expect(reports.map((r) => r.value).slice(0, 6)).toEqual(['ready', 'ping', 'ping', 'ping', 'ping', 'ping']);
    expect(reports[0].url).toBe(`/liveliness/${id}?liveliness=ready`);
    expect(reports.every((r) => r.bodyLength === 0)).toBe(true);
    const gaps = intervals(reports.slice(0, 6).map((r) => r.at));
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(40);
      expect(gap).toBeLessThanOrEqual(450);
    }
    // A report delivered late (a loaded machine) comes closer to the next one: two gaps in a row still span about
    // two periods. Pings in a burst would not.
    for (let i = 1; i < gaps.length; i++) expect(gaps[i - 1] + gaps[i]).toBeGreaterThanOrEqual(320);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeGreaterThanOrEqual(170);
    expect(mean).toBeLessThanOrEqual(300);
    expect(sim.stdout.some((line) => line.includes(`[sc-sim ${id}] listening on port`))).toBe(true);
    expect(sim.stdout.some((line) => line.endsWith(' ready'))).toBe(true);
  });

  it('builds the URL from a base ending with / and encodes the id', async () => {
    const id = 'odd id+ü';
    const { sim } = await start({ id }, { endpoint: `${receiver.url}/` });
    const ready = await receiver.waitForReport(id, 'ready');
    expect(ready.url).toBe(`/liveliness/${encodeURIComponent(id)}?liveliness=ready`);
    expect(sim.kill('SIGTERM')).toBe(true);
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('runs without a liveliness endpoint, reporting nothing', async () => {
    const { sim, wsUrl } = await start({}, { endpoint: null });
    await sim.waitForLine('ready (no liveliness endpoint');
    const client = await viewer(wsUrl);
    expect(await client.nextJson()).toMatchObject({ type: 'hello' });
    await client.close();
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(receiver.reports).toEqual([]);
  });

  it('keeps pinging on time when the endpoint answers slowly', async () => {
    receiver.behaviour.delayMs = 350;
    const { sim, id } = await start({ livelinessUpdateFrequency: 0.1 });
    await receiver.waitForReport(id, 'ping', 5000, 6);
    const pings = receiver.reportsFor(id).filter((r) => r.value === 'ping');
    const gaps = intervals(pings.slice(0, 6).map((r) => r.at));
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeLessThan(200);
    sim.kill('SIGTERM');
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(receiver.valuesFor(id)).toContain('disconnect');
  });

  it('logs a failing endpoint (HTTP 500) on stderr and keeps going', async () => {
    receiver.behaviour.status = 500;
    const { sim, id } = await start({ livelinessUpdateFrequency: 0.1 });
    await receiver.waitForReport(id, 'ping', 5000, 3);
    await sim.waitForLine(/liveliness ready to .* failed: HTTP 500/, 5000, 'stderr');
    expect(sim.isAlive()).toBe(true);
    receiver.behaviour.status = 200;
    await sim.waitForLine('answers again', 5000, 'stderr');
    sim.kill('SIGTERM');
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(receiver.valuesFor(id).at(-1)).toBe('disconnect');
  });

  it('logs an unreachable endpoint and still serves its viewer', async () => {
    const deadEndpoint = `http://127.0.0.1:${await freePort()}/api/spawns`;
    const { sim, wsUrl } = await start({ livelinessUpdateFrequency: 0.1 }, { endpoint: deadEndpoint });
    await sim.waitForLine(/liveliness ready to .* failed: .*ECONNREFUSED/, 5000, 'stderr');
    const client = await viewer(wsUrl);
    expect(await client.nextJson()).toMatchObject({ type: 'hello' });
    await client.close();
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('is not held up by a hung endpoint when told to stop', async () => {
    receiver.behaviour.hang = true;
    const { sim, id } = await start();
    await receiver.waitForReport(id, 'ready');
    const signalledAt = Date.now();
    sim.kill('SIGTERM');
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(1900);
  });
});

describe('viewer connection', () => {
  it.each([
    [{}, 'csr'],
    [{ csr: true }, 'csr'],
    [{ ssr: true }, 'ssr'],
  ] as Array<[ScServerOptions, string]>)('greets a viewer with a hello (%j)', async (overrides, rendererType) => {
    const { sim, id, wsUrl } = await startListening(overrides);
    const client = await viewer(wsUrl);
    expect(await client.nextJson()).toEqual({
      type: 'hello',
      id,
      model: null,
      modelFound: false,
      rendererType,
      sessionToken: false,
    });
    await sim.waitForLine('viewer connected from');
  });

  describe('models', () => {
    let models: string;
    let missing: string;
    beforeEach(() => {
      const root = makeTempDir(cleanup, 'sc-sim-e2e-');
      models = join(root, 'model dir, with spaces');
      missing = join(root, 'not there');
      mkdirSync(models);
      writeFileSync(join(models, 'engine.scz'), 'scz');
      mkdirSync(join(models, 'assembly'));
    });

    it.each([
      ['engine', true],
      ['assembly', true],
      ['missing', false],
      ['engine.scz', false],
    ])('reports --model-file %s as modelFound %s', async (model, found) => {
      const { id, wsUrl } = await startListening({ modelFile: model, modelSearchDirectories: [missing, models] });
      const client = await viewer(wsUrl);
      expect(await client.nextJson()).toMatchObject({ type: 'hello', id, model, modelFound: found });
    });

    it('answers a model change with a new hello and keeps echoing', async () => {
      const { sim, wsUrl } = await startListening({ modelSearchDirectories: [models] });
      const client = await viewer(wsUrl);
      expect(await client.nextJson()).toMatchObject({ model: null, modelFound: false });
      await client.send(JSON.stringify({ model: 'assembly' }));
      expect(await client.nextJson()).toMatchObject({ type: 'hello', model: 'assembly', modelFound: true });
      await client.send(JSON.stringify({ model: 'nothing' }));
      expect(await client.nextJson()).toMatchObject({ type: 'hello', model: 'nothing', modelFound: false });
      await client.send('after');
      expect((await client.next()).text).toBe('after');
      await sim.waitForLine('viewer asked for model "assembly"');
    });

    it('accepts the --opt=value syntax and a ;-joined search path', async () => {
      const port = await freePort();
      const id = 'equals-syntax';
      const sim = startSimulator(
        [
          `--id=${id}`,
          `--sc-port=${port}`,
          '--license=k',
          `--model-search-directories=${missing};${models}`,
          '--model-file=engine',
        ],
        { cleanup },
      );
      await sim.waitForLine('listening on port');
      const client = await viewer(`ws://127.0.0.1:${port}`);
      expect(await client.nextJson()).toMatchObject({ id, model: 'engine', modelFound: true });
    });
  });

  it('echoes text and binary messages unchanged, including 1 MiB byte-exact', async () => {
    const { wsUrl } = await startListening();
    const client = await viewer(wsUrl);
    await client.next(); // hello
    const big = randomBytes(1024 * 1024);
    const small = randomBytes(1000);
    await client.send('plain text ✓');
    await client.send('{"not":"a model request"}');
    await client.send(small);
    await client.send(big);
    await client.send(Buffer.alloc(0));
    const replies = [
      await client.next(),
      await client.next(),
      await client.next(),
      await client.next(10000),
      await client.next(),
    ];
    expect(replies.map((m) => m.isBinary)).toEqual([false, false, true, true, true]);
    expect(replies[0].text).toBe('plain text ✓');
    expect(replies[1].text).toBe('{"not":"a model request"}');
    expect(replies[2].data.equals(small)).toBe(true);
    expect(replies[3].data.length).toBe(big.length);
    expect(replies[3].data.equals(big)).toBe(true);
    expect(replies[4].data.length).toBe(0);
  });

  it('serves one viewer at a time: a second is refused with HTTP 409', async () => {
    const { sim, wsUrl } = await startListening();
    const first = await viewer(wsUrl);
    await first.next();
    const second = viewer(wsUrl);
    await expect(second).rejects.toBeInstanceOf(ViewerRefusedError);
    await expect(second).rejects.toMatchObject({ status: 409 });
    await sim.waitForLine('busy (409)');
    await first.send('still mine');
    expect((await first.next()).text).toBe('still mine');
    expect(sim.isAlive()).toBe(true);
    await first.close();
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
  });

  describe('session token', () => {
    it.each([
      ['a wrong token', JSON.stringify({ sessionToken: 'wrong' })],
      ['no token field', JSON.stringify({ model: 'x' })],
      ['not JSON', 'hello'],
      ['a binary message', Buffer.from(JSON.stringify({ sessionToken: 's3cret' }))],
    ])('refuses %s with 1008, then accepts a viewer with the right token', async (_name, first) => {
      const { sim, id, wsUrl } = await startListening({ sessionToken: 's3cret' });
      const bad = await viewer(wsUrl);
      await bad.send(first);
      expect(await bad.closed).toMatchObject({ code: 1008 });
      expect(bad.messages).toEqual([]); // no hello for a refused viewer
      expect(sim.isAlive()).toBe(true);

      const good = await viewer(wsUrl);
      await good.send(JSON.stringify({ sessionToken: 's3cret' }));
      expect(await good.nextJson()).toEqual({
        type: 'hello',
        id,
        model: null,
        modelFound: false,
        rendererType: 'csr',
        sessionToken: true,
      });
      await good.send('echo me');
      expect((await good.next()).text).toBe('echo me');
      expect(sim.output()).not.toContain('s3cret');
    });

    it('does not count a refused viewer as connected: the initial-use duration still ends it', async () => {
      const { sim, id, wsUrl } = await startListening({ sessionToken: 's3cret', initialUseDuration: 0.6 });
      const bad = await viewer(wsUrl);
      await bad.send(JSON.stringify({ sessionToken: 'nope' }));
      expect(await bad.closed).toMatchObject({ code: 1008 });
      expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
      expect(Date.now() - sim.spawnedAt).toBeGreaterThanOrEqual(600);
      expect(receiver.valuesFor(id).at(-1)).toBe('disconnect');
    });
  });
});

describe('shutdown', () => {
  it('reports disconnect and exits 0 when the viewer closes', async () => {
    const { sim, id, wsUrl } = await startReady({ livelinessUpdateFrequency: 0.2 });
    const client = await viewer(wsUrl);
    await client.next();
    await client.close();
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    const values = receiver.valuesFor(id);
    expect(values[0]).toBe('ready');
    expect(values.filter((v) => v === 'disconnect')).toHaveLength(1);
    expect(values.at(-1)).toBe('disconnect');
    expect(sim.stdout.some((l) => l.endsWith(' disconnect'))).toBe(true);
    expect(sim.stdout.at(-1)).toMatch(/exit 0 \(viewer closed/);
  });

  it('reports disconnect and exits 0 when nobody connects within the initial-use duration', async () => {
    const { sim, id } = await start({ initialUseDuration: 0.5 });
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    const elapsed = Date.now() - sim.spawnedAt;
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(4000);
    expect(receiver.valuesFor(id)).toEqual(['ready', 'disconnect']);
    expect(sim.output()).toMatch(/no viewer connected within 0.5 s/);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('reports disconnect and exits 0 on %s', async (signal) => {
    const { sim, id } = await startReady();
    sim.kill(signal);
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(receiver.valuesFor(id)).toEqual(['ready', 'disconnect']);
    expect(sim.output()).toContain(`received ${signal}`);
  });

  it('closes the viewer socket (1001) on SIGTERM before reporting disconnect', async () => {
    const { sim, id, wsUrl } = await startReady();
    const client = await viewer(wsUrl);
    await client.next();
    sim.kill('SIGTERM');
    expect(await client.closed).toMatchObject({ code: 1001 });
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(receiver.valuesFor(id).at(-1)).toBe('disconnect');
  });
});

describe('exit codes', () => {
  async function expectExit(
    args: string[],
    code: number,
    options: StartSimulatorOptions = {},
  ): Promise<SimulatorProcess> {
    const sim = startSimulator(args, { cleanup, ...options });
    expect(await sim.waitForExit()).toEqual({ code, signal: null });
    expect(sim.stderr.join('\n')).not.toBe('');
    expect(sim.stdout.at(-1)).toMatch(new RegExp(`exit ${code} `));
    expect(receiver.reports).toEqual([]);
    return sim;
  }

  describe('2: invalid command line argument', () => {
    let port: number;
    beforeEach(async () => {
      port = await freePort();
    });
    const endpoint = () => ['--liveliness-endpoint', receiver.url];

    it('without --id', async () => {
      const sim = await expectExit(['--sc-port', String(port), '--license', 'k', ...endpoint()], 2);
      expect(sim.stderr.join('\n')).toContain('--id is required');
    });

    it('without --sc-port', async () => {
      const sim = await expectExit(['--id', 'a', '--license', 'k', ...endpoint()], 2);
      expect(sim.stderr.join('\n')).toContain('--sc-port is required');
    });

    it.each(['0', '65536', 'abc', '-1'])('with --sc-port %s', async (bad) => {
      const sim = await expectExit(['--id', 'a', '--sc-port', bad, '--license', 'k', ...endpoint()], 2);
      expect(sim.stderr.join('\n')).toContain('port number');
    });

    it('with an unknown option', async () => {
      const sim = await expectExit(
        ['--id', 'a', '--sc-port', String(port), '--license', 'k', '--bogus', 'x', ...endpoint()],
        2,
      );
      expect(sim.stderr.join('\n')).toContain('unknown option --bogus');
    });

    it('without a license option', async () => {
      const sim = await expectExit(['--id', 'a', '--sc-port', String(port), ...endpoint()], 2);
      expect(sim.stderr.join('\n')).toContain('one of --license or --license-file is required');
    });
  });

  it('6 for an empty --license', async () => {
    const port = await freePort();
    const sim = await expectExit(
      ['--id', 'a', '--sc-port', String(port), '--license', '', '--liveliness-endpoint', receiver.url],
      6,
    );
    expect(sim.stderr.join('\n')).toContain('invalid license');
  });

  it('7 for a missing or empty --license-file', async () => {
    const port = await freePort();
    const dir = makeTempDir(cleanup);
    const empty = join(dir, 'empty.lic');
    writeFileSync(empty, '');
    for (const file of [join(dir, 'missing.lic'), empty]) {
      const sim = await expectExit(
        ['--id', 'a', '--sc-port', String(port), '--license-file', file, '--liveliness-endpoint', receiver.url],
        7,
      );
      expect(sim.stderr.join('\n')).toContain('invalid license file');
    }
  });

  it('runs with a readable license file and never prints the license', async () => {
    const dir = makeTempDir(cleanup);
    const file = join(dir, 'hoops.lic');
    writeFileSync(file, 'LICENSE-FILE-SECRET-9f8e7d\n');
    const fromFile = await startReady({ licenseFile: file, license: undefined });
    const fromKey = await startReady({ license: 'LICENSE-KEY-SECRET-1a2b3c' });
    for (const { sim, wsUrl } of [fromFile, fromKey]) {
      const client = await viewer(wsUrl);
      await client.next();
      sim.kill('SIGTERM');
      expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
      expect(sim.output()).not.toMatch(/SECRET/);
    }
  });

  it('3 when the port is taken, without reporting ready', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, () => resolve())); // all interfaces, as the simulator binds
    cleanup.add(() => new Promise<void>((resolve) => holder.close(() => resolve())), 'port holder');
    const sim = startSimulator(await simulatorOptions({ scPort: port }, receiver.url), { cleanup });
    expect(await sim.waitForExit()).toEqual({ code: 3, signal: null });
    expect(sim.stderr.join('\n')).toContain('EADDRINUSE');
    expect(sim.stdout.join('\n')).not.toMatch(/ ready/);
    await sleep(100); // a ready sent just before exiting would have arrived by now
    expect(receiver.reports).toEqual([]);
  });
});

describe('fault injection', () => {
  describe.each(VIA)('selected via %s', (via) => {
    it('never-ready: listens and stays alive, reporting nothing, past the initial-use duration', async () => {
      const [overrides, options] = withFault(via, 'never-ready', {
        initialUseDuration: 0.3,
        livelinessUpdateFrequency: 0.1,
      });
      const { sim, wsUrl } = await start(overrides, options);
      await sim.waitForLine('listening on port');
      await sleep(700);
      expect(sim.isAlive()).toBe(true);
      expect(receiver.reports).toEqual([]);
      const client = await viewer(wsUrl); // it does accept a viewer
      expect(await client.nextJson()).toMatchObject({ type: 'hello', modelFound: false });
    });

    it('exit-before-ready:4 exits 4 with a reason, never ready', async () => {
      const [overrides, options] = withFault(via, 'exit-before-ready:4');
      const { sim } = await start(overrides, options);
      expect(await sim.waitForExit()).toEqual({ code: 4, signal: null });
      expect(sim.stderr.join('\n')).toMatch(/exit-before-ready.*failed to initialize the stream cache/);
      await sleep(50);
      expect(receiver.reports).toEqual([]);
    });

    it('slow-ready:300 reports ready no sooner than 300 ms after the spawn', async () => {
      const [overrides, options] = withFault(via, 'slow-ready:300', { livelinessUpdateFrequency: 0.1 });
      const { sim, id, wsUrl } = await start(overrides, options);
      const ready = await receiver.waitForReport(id, 'ready');
      expect(ready.at - sim.spawnedAt).toBeGreaterThanOrEqual(300);
      await receiver.waitForReport(id, 'ping');
      const client = await viewer(wsUrl);
      const hello = await client.nextJson();
      expect(hello).toMatchObject({ modelFound: false, model: via === 'model' ? 'scsim:slow-ready:300' : null });
    });

    it('crash-after:200 exits 1 after ready, without disconnect', async () => {
      const [overrides, options] = withFault(via, 'crash-after:200', { livelinessUpdateFrequency: 0.1 });
      const { sim, id } = await start(overrides, options);
      const ready = await receiver.waitForReport(id, 'ready');
      expect(await sim.waitForExit()).toEqual({ code: 1, signal: null });
      // From its start: the ready report may be read late by a busy test process, its crash timer is not.
      expect(Date.now() - sim.spawnedAt).toBeGreaterThanOrEqual(200);
      expect(ready.at).toBeGreaterThanOrEqual(sim.spawnedAt);
      await sleep(100);
      expect(receiver.valuesFor(id)).not.toContain('disconnect');
      expect(sim.stderr.join('\n')).toContain('crash-after');
    });

    it('stop-pinging-after:300 goes silent but stays alive, past the initial-use duration', async () => {
      const [overrides, options] = withFault(via, 'stop-pinging-after:300', {
        livelinessUpdateFrequency: 0.1,
        initialUseDuration: 0.3,
      });
      const { sim, id } = await start(overrides, options);
      await receiver.waitForReport(id, 'ping', 5000, 2);
      await sim.waitForLine('silent from now on');
      await sleep(150); // let a ping already on the wire arrive
      const count = receiver.reportsFor(id).length;
      await sleep(500);
      expect(receiver.reportsFor(id)).toHaveLength(count);
      expect(sim.isAlive()).toBe(true);
      sim.kill('SIGTERM'); // still stoppable; silent, so no disconnect
      expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
      expect(receiver.valuesFor(id)).not.toContain('disconnect');
    });

    it('ignore-sigterm survives SIGTERM and SIGINT and dies only on SIGKILL', async () => {
      const [overrides, options] = withFault(via, 'ignore-sigterm', { initialUseDuration: 0.2 });
      const { sim, id } = await startReady(overrides, options);
      sim.kill('SIGTERM');
      await sim.waitForLine('received SIGTERM: ignored');
      sim.kill('SIGINT');
      await sim.waitForLine('received SIGINT: ignored');
      await sleep(300);
      expect(sim.isAlive()).toBe(true);
      sim.kill('SIGKILL');
      expect(await sim.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
      expect(receiver.valuesFor(id)).not.toContain('disconnect');
    });

    it('spawn-grandchild: the grandchild lives in the group and dies with it', async () => {
      const [overrides, options] = withFault(via, 'spawn-grandchild');
      const { sim } = await startReady(overrides, { ...options, detached: true });
      const line = await sim.waitForLine(/grandchild pid \d+/, 5000, 'stdout');
      const grandchild = Number(/grandchild pid (\d+)/.exec(line)![1]);
      expect(sim.grandchildPids).toEqual([grandchild]);
      expect(isProcessAlive(grandchild)).toBe(true);
      expect(isProcessAlive(sim.pid)).toBe(true);
      expect(isProcessGroupAlive(sim.pid)).toBe(true);

      process.kill(-sim.pid, 'SIGTERM');
      expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
      await waitFor(() => !isProcessAlive(grandchild) && !isProcessGroupAlive(sim.pid), 5000, {
        description: 'the grandchild and its process group to die',
      });
    });
  });

  it('spawn-grandchild: stopping only the simulator leaves the grandchild running', async () => {
    const { sim } = await startReady({ modelFile: 'scsim:spawn-grandchild' });
    await waitFor(() => sim.grandchildPids[0]);
    sim.kill('SIGTERM');
    expect(await sim.waitForExit()).toEqual({ code: 0, signal: null });
    expect(isProcessAlive(sim.grandchildPids[0])).toBe(true); // the cleanup kills it
  });

  it('combines faults separated by commas', async () => {
    const { sim } = await startReady({ modelFile: 'scsim:spawn-grandchild,ignore-sigterm' }, { detached: true });
    await waitFor(() => sim.grandchildPids[0]);
    process.kill(-sim.pid, 'SIGTERM');
    await sim.waitForLine('received SIGTERM: ignored');
    expect(sim.isAlive()).toBe(true);
    await waitFor(() => !isProcessAlive(sim.grandchildPids[0]), 5000, {
      description: 'the grandchild to die of SIGTERM',
    });
    process.kill(-sim.pid, 'SIGKILL');
    expect(await sim.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    await waitFor(() => !isProcessGroupAlive(sim.pid));
  });

  it.each([
    ['env', { env: { SCSIM_FAULT: 'explode' } }, {}],
    ['model', {}, { modelFile: 'scsim:explode' }],
    ['model, bad parameter', {}, { modelFile: 'scsim:crash-after:soon' }],
  ] as Array<[string, StartSimulatorOptions, ScServerOptions]>)(
    'exits 2 for an unknown fault (%s)',
    async (_via, options, overrides) => {
      const { sim } = await start(overrides, options);
      expect(await sim.waitForExit()).toEqual({ code: 2, signal: null });
      expect(sim.stderr.join('\n')).toMatch(/fault/);
      expect(receiver.reports).toEqual([]);
    },
  );
});
