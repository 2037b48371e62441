/**
 * End to end, what lets an existing HOOPS Server installation switch in one step, with real simulator
 * processes, real HTTP and real WebSockets: spawn on connect (a viewer's WebSocket straight to the service
 * port), the HOOPS status shapes (/api/status, /api/spawns, /api/help), SSR spread over several GPUs (argv
 * read from /proc), and its Config.js read by the built service as a real process.
 *
 * The HOOPS web viewer's own connection code is not available here (neither /work/shared/seed nor the
 * reference holds it), so the viewer is the `ws` client connecting exactly as the reference describes it:
 * `ws://<host>:<service port>/?renderingLocation=csr|ssr`, then speaking to the Stream Cache Server.
 */
import { spawn as spawnChild } from 'child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import request from 'supertest';
import { RETRY_AFTER_AT_CAPACITY_S } from '../src/http/http-error';
import { HOOPS_STATES } from '../src/hoops/hoops-states';
import { WsProxyService } from '../src/proxy/ws-proxy.service';
import { useCleanup, type Cleanup } from './support/processes';
import { freePort } from './support/ports';
import { SERVICE_MAIN, startServiceProcess, FAST_TIMINGS, type ServiceProcess } from './support/spawner-app';
import {
  argAfter,
  getSpawn,
  procArgv,
  rawUpgrade,
  startTrackedApp,
  waitForProcessGone,
  waitForSpawnState,
  type TrackedApp,
} from './support/spawner-e2e';
import { SIM_EXECUTABLE } from './support/simulator';
import { makeTempDir } from './support/temp';
import { connectViewer, type ViewerClient } from './support/viewer-client';
import { waitFor } from './support/wait';

/** This file's WebSocket ports: 26500-26999 (in-process apps from 26500, the service process from 26900). */
const PORT_BASE = 26500;
const PORT_COUNT = 40;
const ENV = { ...FAST_TIMINGS, SC_PORT_BASE: String(PORT_BASE), SC_PORT_COUNT: String(PORT_COUNT) };
const CONFIG_PORT_BASE = 26900;
const FIXTURE_CONFIG = join(__dirname, 'fixtures', 'hoops', 'Config.js');

/** Sets an environment variable the simulators started by an in-process app inherit, until cleanup. */
function simulatorEnv(cleanup: Cleanup, name: string, value: string): void {
  const before = process.env[name];
  process.env[name] = value;
  cleanup.add(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }, `env ${name}`);
}

describe('HOOPS Server drop-in (e2e)', () => {
  const cleanup = useCleanup();

  async function connectRoot(app: TrackedApp, query: string): Promise<{ viewer: ViewerClient; hello: any }> {
    const viewer = await connectViewer(`ws://127.0.0.1:${app.port}/${query}`, { cleanup, timeoutMs: 10_000 });
    const hello = await viewer.nextJson();
    return { viewer, hello };
  }

  describe('spawn on connect', () => {
    it('csr: a viewer connecting to the service port gets its own server; hello and echo through the root socket; listed as "connect"; closing ends the session', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const { viewer, hello } = await connectRoot(app, '?renderingLocation=csr');
      expect(hello).toMatchObject({ type: 'hello', rendererType: 'csr', model: null, sessionToken: false });
      const id = hello.id as string;

      const view = await getSpawn(app.url, id);
      expect(view).toMatchObject({ id, origin: 'connect', rendererType: 'csr', state: 'connected', gpuIndex: null });
      expect(view.wsPort).toBeGreaterThanOrEqual(PORT_BASE);
      expect(view.wsPort).toBeLessThan(PORT_BASE + PORT_COUNT);
      const argv = procArgv(view.pid!);
      expect(argAfter(argv, '--id')).toBe(id);
      expect(argAfter(argv, '--csr')).toBe('true');
      expect(argv).not.toContain('--model-file');
      expect(argv).not.toContain('--session-token');

      const listed = (await request(app.url).get('/spawns').expect(200)).body;
      expect(listed).toEqual([expect.objectContaining({ id, origin: 'connect' })]);
      const hoopsList = (await request(app.url).get('/api/spawns').expect(200)).body.spawns;
      expect(hoopsList).toEqual([
        expect.objectContaining({ id, origin: 'connect', state: 'ready', spawnState: 'connected' }),
      ]);

      await viewer.send('echo through the root socket');
      expect((await viewer.next()).text).toBe('echo through the root socket');
      expect((await getSpawn(app.url, id)).bytesToServer).toBeGreaterThan(0);

      await viewer.close();
      await waitForProcessGone(view.pid!);
      const ended = await waitForSpawnState(app.url, id, 'exited');
      expect(ended.viewerLeftAt).not.toBeNull();
      expect((await request(app.url).get('/api/spawns').expect(200)).body.spawns).toEqual([]);
      expect(app.supervisor.capacity().activeSpawns).toBe(0);
    });

    it('ssr for renderingLocation=ssr; CSR for any other value, none, or another path', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const cases: Array<[string, 'csr' | 'ssr']> = [
        ['?renderingLocation=ssr', 'ssr'],
        ['?renderingLocation=csr', 'csr'],
        ['?renderingLocation=gpu', 'csr'],
        ['', 'csr'],
        ['viewer/session?renderingLocation=ssr', 'ssr'],
      ];
      for (const [query, renderer] of cases) {
        const { viewer, hello } = await connectRoot(app, query);
        expect(hello).toMatchObject({ type: 'hello', rendererType: renderer });
        const argv = procArgv((await getSpawn(app.url, hello.id)).pid!);
        expect(argAfter(argv, renderer === 'ssr' ? '--ssr' : '--csr')).toBe('true');
        await viewer.close();
      }
      expect(app.supervisor.list().map((spawn) => spawn.spec.origin)).toEqual(cases.map(() => 'connect'));
    });

    it('503 with Retry-After before the upgrade at capacity; the connected viewer is untouched', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SC_MAX_SPAWNS: '1' });
      const { viewer, hello } = await connectRoot(app, '?renderingLocation=csr');
      const refused = await rawUpgrade(app.url, '/?renderingLocation=csr').answer;
      expect(refused.status).toBe(503);
      expect(Number(refused.headers['retry-after'])).toBe(RETRY_AFTER_AT_CAPACITY_S);
      expect(refused.body).toMatch(/all 1 spawn slots are in use/);
      expect(refused.headers.upgrade).toBeUndefined();
      expect(app.supervisor.list()).toHaveLength(1);
      await viewer.send('still here');
      expect((await viewer.next()).text).toBe('still here');
      expect((await getSpawn(app.url, hello.id)).state).toBe('connected');
    });

    it('403 when that rendering mode is disabled, 500 when the server fails to start, 504 when it is not ready in time', async () => {
      const noSsr = await startTrackedApp(cleanup, { ...ENV, SSR_ENABLED: 'false' });
      const disabled = await rawUpgrade(noSsr.url, '/?renderingLocation=ssr').answer;
      expect(disabled.status).toBe(403);
      expect(disabled.body).toMatch(/SSR.*disabled/);
      expect(noSsr.supervisor.list()).toEqual([]);

      // Servers get a minimal environment: the simulator's fault variables are passed on by name.
      // (An app reads its environment once, as it starts: the variable is set first.)
      simulatorEnv(cleanup, 'SCSIM_FAULT', 'exit-before-ready:6');
      const app = await startTrackedApp(cleanup, { ...ENV, SC_CHILD_ENV: 'SCSIM_FAULT,SCSIM_READY_DELAY_MS' });
      const failed = await rawUpgrade(app.url, '/?renderingLocation=csr').answer;
      expect(failed.status).toBe(500);
      expect(failed.body).toMatch(/exit code 6.*invalid license/);
      expect(app.supervisor.list().map((s) => [s.spec.origin, s.state])).toEqual([['connect', 'failed']]);

      // A second service with a 1 s ready timeout (the first keeps the usual one: on a loaded machine a server
      // that fails may take longer than 1 s to do so, and would be answered 504).
      process.env.SCSIM_FAULT = 'never-ready';
      const strict = await startTrackedApp(cleanup, {
        ...ENV,
        SPAWN_READY_TIMEOUT_S: '1',
        SC_CHILD_ENV: 'SCSIM_FAULT,SCSIM_READY_DELAY_MS',
      });
      const started = Date.now();
      const late = await rawUpgrade(strict.url, '/?renderingLocation=csr').answer;
      expect(late.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(strict.supervisor.list().map((s) => [s.spec.origin, s.state === 'failed' ? 'failed' : 'stopped'])).toEqual(
        [['connect', 'stopped']],
      );
      for (const spawn of [...app.supervisor.list(), ...strict.supervisor.list()]) await waitForProcessGone(spawn.pid!);
    });

    it('no leak: a viewer that leaves before its server is ready stops the spawn, and its slot and port come back', async () => {
      simulatorEnv(cleanup, 'SCSIM_READY_DELAY_MS', '4000');
      const app = await startTrackedApp(cleanup, {
        ...ENV,
        SC_MAX_SPAWNS: '1',
        SC_PORT_COUNT: '1',
        SC_CHILD_ENV: 'SCSIM_READY_DELAY_MS',
        // The second viewer's server is ready after 4 s plus its boot: the tests' 5 s left a CI run under a CPU hog
        // a 504 (9 s: within the viewer's own 10 s).
        SPAWN_READY_TIMEOUT_S: '9',
      });
      const { answer, request: upgrade } = rawUpgrade(app.url, '/?renderingLocation=csr');
      answer.catch(() => undefined);
      // Its process started (a spawn is 'starting' before the launch has given it a pid).
      const starting = await waitFor(
        () => app.supervisor.list().find((s) => s.state === 'starting' && s.pid !== undefined),
        5000,
        { description: 'the spawn for the viewer to start' },
      );
      expect(starting.spec.origin).toBe('connect');
      const left = Date.now();
      upgrade.destroy(); // the tab closes while the server starts
      await waitForProcessGone(starting.pid!);
      const ended = await waitForSpawnState(app.url, starting.id, ['exited', 'failed']);
      expect(Date.now() - left).toBeLessThan(3000); // well before the server would have been ready
      expect(ended.endReason).toMatch(/went away before the server was ready/);
      expect(app.supervisor.capacity()).toMatchObject({ activeSpawns: 0, ports: { leased: 0 } });
      expect(app.app.get(WsProxyService).activeCount).toBe(0);

      // The slot and the one port serve the next viewer (its server, started by the same app, is slow to be ready too).
      const { viewer, hello } = await connectRoot(app, '?renderingLocation=csr');
      expect(hello).toMatchObject({ type: 'hello' });
      expect((await getSpawn(app.url, hello.id)).wsPort).toBe(PORT_BASE);
      await viewer.close();
    });
  });

  describe('HOOPS status shapes', () => {
    it('GET /api/status: one count per HOOPS state, ports, memory, gpuAllocation, config; ?pretty=true indents it', async () => {
      const app = await startTrackedApp(cleanup, { ...ENV, SC_SSR_GPU_COUNT: '2', SC_LICENSE: 'LIC-DROPIN-77aa' });
      const { viewer } = await connectRoot(app, '?renderingLocation=ssr');
      await request(app.url)
        .post('/api/spawn')
        .send({ params: { model: 'scsim:exit-before-ready:4' } })
        .expect(500);
      const response = await request(app.url).get('/api/status').expect(200);
      const status = response.body;
      expect(status).toMatchObject({
        status: 'ok',
        timestamp: expect.any(String),
        launching: 0,
        ready: 1, // connected counts as ready
        suspect: 0,
        disconnected: 0,
        'nice-killed': 0,
        killed: 0,
        zombie: 0,
        dead: 1,
        usedSpawnPorts: 1,
        availableSpawnPorts: PORT_COUNT - 1,
        gpuAllocation: { '0': 1, '1': 0 },
        config: expect.objectContaining({ ssrGpuCount: 2, spawnOnConnect: true, license: 'key' }),
      });
      for (const state of HOOPS_STATES) expect(typeof status[state]).toBe('number');
      for (const field of ['rss', 'heapTotal', 'heapUsed', 'external']) expect(status.memory[field]).toBeGreaterThan(0);
      expect(JSON.stringify(status)).not.toContain('LIC-DROPIN-77aa');

      const pretty = await request(app.url).get('/api/status?pretty=true').expect(200);
      expect(pretty.headers['content-type']).toMatch(/^application\/json/);
      expect(pretty.text).toMatch(/^\{\n {2}"status": "ok",\n/);
      expect(JSON.parse(pretty.text)).toMatchObject({ status: 'ok', ready: 1, dead: 1 });
      const compact = await request(app.url).get('/api/status').expect(200);
      expect(compact.text).not.toContain('\n');
      await viewer.close();
    });

    it('GET /api/spawns names each state as the HOOPS Server does (launching, ready...), as /api/status counts them', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const { viewer, hello } = await connectRoot(app, '?renderingLocation=csr');
      const launching = request(app.url)
        .post('/service')
        .send({ params: { model: 'scsim:slow-ready:1500' } })
        .then((response) => response);
      const list = await waitFor(async () => {
        const body = (await request(app.url).get('/api/spawns').expect(200)).body;
        return body.spawns.length === 2 && body;
      });
      const byId = Object.fromEntries(list.spawns.map((s: { id: string }) => [s.id, s]));
      expect(byId[hello.id]).toMatchObject({ state: 'ready', spawnState: 'connected' });
      const other = list.spawns.find((s: { id: string }) => s.id !== hello.id);
      expect(other).toMatchObject({ state: 'launching', spawnState: 'starting' });
      for (const entry of list.spawns) expect(HOOPS_STATES).toContain(entry.state);
      expect((await launching).status).toBe(200);
      await viewer.close();
    });

    it('GET /api/spawns lists live spawns only, with id, state, spawnTime, lastUpdateTime and ours; GET /api/help lists the commands', async () => {
      const app = await startTrackedApp(cleanup, ENV);
      const live = await request(app.url).post('/api/spawn').send({}).expect(200);
      await request(app.url)
        .post('/service')
        .send({ params: { model: 'scsim:exit-before-ready:6' } })
        .expect(500);
      expect(app.supervisor.list()).toHaveLength(2);
      const list = (await request(app.url).get('/api/spawns').expect(200)).body;
      expect(list.spawns).toEqual([
        expect.objectContaining({
          id: live.body.serviceId,
          state: 'ready',
          spawnTime: expect.any(String),
          lastUpdateTime: expect.any(String),
          origin: 'hoops-api',
          rendererType: 'csr',
          wsPort: expect.any(Number),
        }),
      ]);
      const pretty = await request(app.url).get('/api/spawns?pretty=true').expect(200);
      expect(pretty.text).toContain('\n  "spawns": [');

      const help = (await request(app.url).get('/api/help').expect(200)).body;
      const commands = help.commands.map((c: { method: string; path: string }) => `${c.method} ${c.path}`);
      expect(commands).toEqual(
        expect.arrayContaining([
          'POST /api/spawn',
          'POST /service',
          'GET /api/status',
          'GET /api/spawns',
          'GET /api/help',
          'WebSocket /?renderingLocation=csr|ssr',
        ]),
      );
      for (const command of help.commands) expect(command.description).toEqual(expect.any(String));
    });
  });

  it('SSR spawns spread over SC_SSR_GPU_COUNT GPUs by least load (argv from /proc), CSR ones get no GPU', async () => {
    const app = await startTrackedApp(cleanup, { ...ENV, SC_SSR_GPU_COUNT: '2' });
    const ssr = async (): Promise<{ id: string; gpu: string | undefined }> => {
      const answer = await request(app.url).post('/api/spawn').send({ class: 'ssr_session' }).expect(200);
      const view = await getSpawn(app.url, answer.body.serviceId);
      const gpu = argAfter(procArgv(view.pid!), '--ssr-gpu-index');
      expect(view.gpuIndex).toBe(Number(gpu));
      return { id: view.id, gpu };
    };
    const a = await ssr();
    const b = await ssr();
    const csr = await request(app.url).post('/api/spawn').send({}).expect(200);
    const c = await ssr();
    expect([a.gpu, b.gpu, c.gpu]).toEqual(['0', '1', '0']);
    expect(procArgv((await getSpawn(app.url, csr.body.serviceId)).pid!)).not.toContain('--ssr-gpu-index');
    expect((await request(app.url).get('/api/status')).body.gpuAllocation).toEqual({ '0': 2, '1': 1 });

    // One session on GPU 0 ends: GPUs tie at one each, so the next goes to GPU 0 again; then GPU 1.
    await request(app.url).delete(`/spawns/${a.id}`).expect(202);
    await waitForSpawnState(app.url, a.id, 'exited');
    expect((await request(app.url).get('/api/status')).body.gpuAllocation).toEqual({ '0': 1, '1': 1 });
    expect((await ssr()).gpu).toBe('0');
    // A viewer connecting for SSR is placed the same way.
    const { viewer, hello } = await connectRoot(app, '?renderingLocation=ssr');
    expect(argAfter(procArgv((await getSpawn(app.url, hello.id)).pid!), '--ssr-gpu-index')).toBe('1');
    expect((await request(app.url).get('/api/status')).body.gpuAllocation).toEqual({ '0': 2, '1': 2 });
    await viewer.close();
  });

  describe("the HOOPS Server's Config.js (the built service as a real process)", () => {
    /** A HOOPS package layout: <pkg>/server/node/Config.js, its executable (the simulator), license, models; a home folder. */
    function hoopsPackage(): { pkg: string; home: string; configFile: string } {
      const base = realpathSync(makeTempDir(cleanup, 'sc-hoops-pkg-'));
      const pkg = join(base, 'hoops');
      const home = join(base, 'home');
      for (const dir of [
        'server/node',
        'server/bin/linux64',
        'license',
        'quick_start/converted_models/standard/sc_models',
      ])
        mkdirSync(join(pkg, dir), { recursive: true });
      for (const dir of ['extra-models', 'sc_workspace']) mkdirSync(join(home, dir), { recursive: true });
      symlinkSync(SIM_EXECUTABLE, join(pkg, 'server/bin/linux64/ts3d_sc_server'));
      writeFileSync(join(pkg, 'license/license.txt'), 'HOOPS-LICENSE-FILE-CONTENTS\n');
      const configFile = join(pkg, 'server/node/Config.js');
      copyFileSync(FIXTURE_CONFIG, configFile);
      return { pkg, home, configFile };
    }

    async function servicePort(): Promise<number> {
      for (;;) {
        const port = await freePort();
        if (port < 26500 || port > 26999) return port;
      }
    }

    /** Runs the built service until it exits on its own (start-up refused); its output and exit code. */
    function runUntilExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
      return new Promise((resolve) => {
        const child = spawnChild(process.execPath, [SERVICE_MAIN], {
          env: { ...process.env, NODE_ENV: 'test', NO_COLOR: '1', HOST: '127.0.0.1', PORT: '0', ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, output });
        });
      });
    }

    it('HOOPS_CONFIG=<pkg>/server/node/Config.js starts the service with its settings (paths from communicatorDir and ~/), warnings for the rest; the environment wins', async () => {
      const { pkg, home, configFile } = hoopsPackage();
      const port = await servicePort();
      const service: ServiceProcess = await startServiceProcess(port, {
        HOOPS_CONFIG: configFile,
        HOME: home,
        SC_INITIAL_USE_DURATION_S: '40', // the environment wins over spawnInitialUseDuration (45)
      });
      cleanup.add(async () => {
        await service.stop(10_000);
      }, 'service process');

      const status = (await request(service.url).get('/api/status').expect(200)).body;
      expect(status.config).toMatchObject({
        executable: join(pkg, 'server/bin/linux64/ts3d_sc_server'),
        usingSimulator: false,
        license: 'file',
        maxSpawns: 4,
        spawnPortBase: CONFIG_PORT_BASE,
        spawnPortCount: 4,
        livelinessIntervalS: 2,
        initialUseDurationS: 40,
        csrEnabled: true,
        ssrEnabled: true,
        ssrGpuCount: 2,
        ssrUseEgl: false,
        workspaceDir: join(home, 'sc_workspace'),
        modelSearchDirectories: [
          join(pkg, 'quick_start/converted_models/standard/sc_models'),
          join(home, 'extra-models'),
        ],
        corsOrigins: '*',
      });
      expect(status).toMatchObject({ availableSpawnPorts: 4, gpuAllocation: { '0': 0, '1': 0 } });

      const output = service.output.join('');
      expect(output).toContain(`settings read from the HOOPS Server configuration ${configFile}`);
      for (const key of ['fileServerPort', 'fileServerStaticDirs', 'ipVersion', 'logLevel', 'logRestFilterRegex'])
        expect(output).toMatch(new RegExp(`HOOPS_CONFIG: ${key} has no equivalent here and is ignored`));
      expect(output.match(/fileServerPort has no equivalent/g)).toHaveLength(1); // once each
      const settingsLine = output.split('\n').find((line) => line.includes('"msg":"effective settings"'));
      const { settings } = JSON.parse(settingsLine ?? '{}') as { settings: Record<string, unknown> };
      expect(settings).toMatchObject({
        SC_PORT_BASE: { value: String(CONFIG_PORT_BASE), source: 'Config.js spawnWebsocketPortsBegin' },
        PORT: { value: String(port), source: 'env' },
        SC_INITIAL_USE_DURATION_S: { value: '40', source: 'env' },
        KILL_GRACE_S: { value: '5', source: 'default' },
      });

      // A viewer connecting straight to the port gets a server started as the file says.
      const viewer = await connectViewer(`ws://127.0.0.1:${port}/?renderingLocation=ssr`, {
        cleanup,
        timeoutMs: 10_000,
      });
      const hello = await viewer.nextJson();
      expect(hello).toMatchObject({ type: 'hello', rendererType: 'ssr' });
      const view = (
        await request(service.url)
          .get(`/spawns/${hello.id as string}`)
          .expect(200)
      ).body;
      expect(view).toMatchObject({ origin: 'connect', gpuIndex: 0 });
      expect(view.wsPort).toBeGreaterThanOrEqual(CONFIG_PORT_BASE);
      expect(view.wsPort).toBeLessThan(CONFIG_PORT_BASE + 4);
      const argv = procArgv(view.pid);
      expect(argAfter(argv, '--license-file')).toBe(join(pkg, 'license/license.txt'));
      expect(argAfter(argv, '--model-search-directories')).toBe(
        `${join(pkg, 'quick_start/converted_models/standard/sc_models')};${join(home, 'extra-models')}`,
      );
      expect(argAfter(argv, '--workspace-dir')).toBe(join(home, 'sc_workspace'));
      expect(argAfter(argv, '--liveliness-update-frequency')).toMatch(/^2(\.0+)?$/);
      expect(argAfter(argv, '--ssr-gpu-index')).toBe('0');
      await viewer.close();
      await waitForProcessGone(view.pid);
    });

    it.each<[string, (pkg: string) => string, RegExp]>([
      [
        'throws',
        () => 'const t = require("../server/node/lib/SpawnerTypes");\nthrow new Error("license key missing");\n',
        /evaluating it threw Error: license key missing \(line 2\)/,
      ],
      [
        'has a syntax error',
        () => 'module.exports = { spawnServerPort: 11182,, };\n',
        /not valid JavaScript: SyntaxError/,
      ],
      [
        'requires another module',
        () => 'const fs = require("fs");\nmodule.exports = {};\n',
        /require\("fs"\) is not available/,
      ],
      [
        'has a setting of the wrong type',
        () => 'module.exports = { communicatorDir: "../../", streamCacheExeFile: null, spawnMaxSpawnCount: "many" };\n',
        /spawnMaxSpawnCount must be a number, got "many"/,
      ],
    ])(
      'a Config.js that %s stops start-up with exit 1 and one clear message, no stack',
      async (_what, source, message) => {
        const { configFile } = hoopsPackage();
        writeFileSync(configFile, source(configFile));
        const { code, output } = await runUntilExit({ HOOPS_CONFIG: configFile });
        expect(code).toBe(1);
        expect(output).toMatch(message);
        expect(output).toContain(`sc-spawner: Invalid configuration:\n  - HOOPS_CONFIG ${configFile}`);
        expect(output).not.toMatch(/^\s+at /m);
        expect(output).not.toContain('listening');
      },
    );

    it('a Config.js another user may write to, or over 1 MiB, stops start-up (it is code the service runs)', async () => {
      const { configFile } = hoopsPackage();
      writeFileSync(configFile, 'module.exports = {};\n');
      chmodSync(configFile, 0o666);
      const open = await runUntilExit({ HOOPS_CONFIG: configFile });
      expect(open.code).toBe(1);
      expect(open.output).toContain(
        `HOOPS_CONFIG ${configFile} cannot be read: it is writable by group or others (mode 0666): chmod go-w it`,
      );
      chmodSync(configFile, 0o644);
      // A setting past the 1 MiB mark was dropped when the file was cut there: now the file is refused.
      writeFileSync(configFile, `module.exports = {};\n//${'x'.repeat(1 << 20)}\n`);
      const big = await runUntilExit({ HOOPS_CONFIG: configFile });
      expect(big.code).toBe(1);
      expect(big.output).toContain(`HOOPS_CONFIG ${configFile} cannot be read: it is larger than`);
    });

    it('a missing Config.js stops start-up with exit 1 naming the file', async () => {
      const missing = join(makeTempDir(cleanup, 'sc-hoops-missing-'), 'Config.js');
      const { code, output } = await runUntilExit({ HOOPS_CONFIG: missing });
      expect(code).toBe(1);
      expect(output).toContain(`HOOPS_CONFIG ${missing} cannot be read: ENOENT`);
      expect(output).not.toMatch(/^\s+at /m);
    });
  });
});
