import { parseAppConfig } from '../../src/config/app-config';
import { PortAllocator } from '../../src/ports/port-allocator.service';
import { SpawnEvent, SpawnEvents } from '../../src/supervisor/runtime/spawn-events';
import { SupervisorService } from '../../src/supervisor/runtime/supervisor.service';
import { liveView, supervisorTestingModule } from '.';

/** The supervisor's unit specs share this: the real module on fakes, with a few helpers. */
export const LIVELINESS_BASE = 'http://127.0.0.1:11182/liveliness';
export const PORT_BASE = 40000;

export const DEFAULT_ENV = {
  SC_MAX_SPAWNS: '3',
  SC_PORT_BASE: String(PORT_BASE),
  SC_PORT_COUNT: '6',
  SC_LIVELINESS_INTERVAL_S: '1', // PING_TIMEOUT_S = 3*1+2 = 5
  SPAWN_READY_TIMEOUT_S: '10',
  KILL_GRACE_S: '2',
};

export async function setup(env: Record<string, string> = {}) {
  const config = parseAppConfig({ ...DEFAULT_ENV, ...env });
  const { moduleRef, clock, probe, launcher, journal, usage } = await supervisorTestingModule(config, {
    livelinessBaseUrl: LIVELINESS_BASE,
  });
  const supervisor = moduleRef.get(SupervisorService);
  const ports = moduleRef.get(PortAllocator);
  const events: SpawnEvent[] = [];
  moduleRef.get(SpawnEvents).changes$.subscribe((e) => events.push(e));

  /** Launches a spawn and returns its fake process and a view of it that is read afresh at every access. */
  const launch = async (request: Partial<Parameters<SupervisorService['launch']>[0]> = {}) => {
    const { id } = await supervisor.launch({ rendererType: 'csr', ...request });
    return { record: liveView(supervisor, id), process: launcher.byId(id) };
  };
  /** Launches a spawn and makes it report ready. */
  const launchReady = async () => {
    const spawned = await launch();
    expect(() => supervisor.report(spawned.record.id, 'ready')).not.toThrow();
    return spawned;
  };
  const statesOf = (id: string) => events.filter((e) => e.id === id).map((e) => e.state);
  return {
    moduleRef,
    config,
    clock,
    probe,
    launcher,
    journal,
    usage,
    supervisor,
    ports,
    events,
    launch,
    launchReady,
    statesOf,
  };
}

/** Settles a promise into a value or an error, for asserting on rejections with full access to the error. */
export async function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}
