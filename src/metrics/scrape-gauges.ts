import { RENDERER_TYPES } from '@app/sc-protocol';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SPAWN_STATES, type WarmPoolStats } from '../supervisor';

export const METRICS_PREFIX = 'sc_spawner_';

/** Readings taken at scrape time (the supervisor's counts, the proxy's open connections). */
export interface ScrapeSources {
  states(): Record<string, number>;
  maxSpawns(): number;
  portsFree(): number;
  portsBusy(): number;
  draining(): boolean;
  /** A spawn would be accepted: not stopping or draining, a slot and a port free, the warm pool not failing. */
  ready(): boolean;
  warm(): WarmPoolStats;
  /** Quota refusals (SC_KEY_MAX_SESSIONS) so far, by key name. */
  quotaRejections?(): ReadonlyMap<string, number>;
  /** How many warm servers of each renderer the pool keeps (SC_WARM_POOL_CSR, SC_WARM_POOL_SSR). */
  warmTarget(): Record<string, number>;
  /** The CPU priority mechanism in effect (cgroup-v2, cgroup-v1, autogroup, nice, none). */
  cpuPriority(): string;
}

/** A gauge without labels whose value is read at scrape time. */
function readingGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name: `${METRICS_PREFIX}${name}`,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** The metrics read at scrape time (collect()) from the supervisor's counts and the proxy's open connections. */
export function registerScrapeGauges(
  registry: Registry,
  sources: () => ScrapeSources | undefined,
  proxyConnections: () => number,
): void {
  new Gauge({
    name: `${METRICS_PREFIX}spawns`,
    help: 'Spawns per state (live states and the ended ones still kept)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const states = sources()?.states() ?? {};
      for (const state of SPAWN_STATES) this.set({ state }, states[state] ?? 0);
    },
  });
  readingGauge(
    registry,
    'capacity',
    'The most spawns that may run at once (SC_MAX_SPAWNS)',
    () => sources()?.maxSpawns() ?? 0,
  );
  readingGauge(registry, 'ports_free', 'WebSocket ports free for new spawns', () => sources()?.portsFree() ?? 0);
  readingGauge(
    registry,
    'ports_busy',
    'WebSocket ports of the range held by another program when last probed (not free)',
    () => sources()?.portsBusy() ?? 0,
  );
  readingGauge(
    registry,
    'draining',
    '1 while the node drains (SIGTERM with DRAIN_TIMEOUT_S): it takes no new session',
    () => (sources()?.draining() ? 1 : 0),
  );
  registerWarmPoolMetrics(registry, sources);
  readingGauge(
    registry,
    'ready',
    '1 while the node would accept a spawn (as GET /health/ready), 0 while full, draining or failing',
    () => (sources()?.ready() ? 1 : 0),
  );
  new Gauge({
    name: `${METRICS_PREFIX}cpu_priority_info`,
    help: 'How the servers run below the service (1 for the mechanism in effect, see docs/cpu-priority.md)',
    labelNames: ['mechanism'],
    registers: [registry],
    collect() {
      const mechanism = sources()?.cpuPriority();
      this.reset();
      if (mechanism) this.set({ mechanism }, 1);
    },
  });
  readingGauge(registry, 'proxy_connections', 'Viewer connections open or opening through the WebSocket proxy', () =>
    proxyConnections(),
  );
}

/** The warm pool's servers (gauge) and its claims and misses (counters that catch up with the pool's own totals). */
function registerWarmPoolMetrics(registry: Registry, sources: () => ScrapeSources | undefined): void {
  new Gauge({
    name: `${METRICS_PREFIX}warm_target`,
    help: 'Warm servers the pool keeps per renderer (SC_WARM_POOL_CSR, SC_WARM_POOL_SSR)',
    labelNames: ['renderer'],
    registers: [registry],
    collect() {
      const target = sources()?.warmTarget() ?? {};
      for (const renderer of RENDERER_TYPES) this.set({ renderer }, target[renderer] ?? 0);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}warm_servers`,
    help: 'Ready, unclaimed warm servers per renderer',
    labelNames: ['renderer'],
    registers: [registry],
    collect() {
      const warm = sources()?.warm();
      for (const renderer of RENDERER_TYPES) this.set({ renderer }, warm?.servers[renderer] ?? 0);
    },
  });
  // The pool counts claims and misses itself; at scrape time the counters catch up with its totals.
  const warmClaims = new Counter({
    name: `${METRICS_PREFIX}warm_claims_total`,
    help: 'Spawn requests answered with a warm server, per renderer',
    labelNames: ['renderer'],
    registers: [registry],
    collect() {
      const warm = sources()?.warm();
      for (const renderer of RENDERER_TYPES) catchUp(warmClaims, { renderer }, warm?.claims[renderer] ?? 0);
    },
  });
  const warmMisses = new Counter({
    name: `${METRICS_PREFIX}warm_misses_total`,
    help: 'Spawn requests of a renderer with a pool that went cold, by reason (needs_options, none_ready)',
    labelNames: ['renderer', 'reason'],
    registers: [registry],
    collect() {
      const warm = sources()?.warm();
      for (const renderer of RENDERER_TYPES) {
        for (const [reason, count] of Object.entries(warm?.misses[renderer] ?? {})) {
          catchUp(warmMisses, { renderer, reason }, count ?? 0);
        }
      }
    },
  });
}

/** What each catch-up counter has been raised to, per label set. */
const caughtUp = new WeakMap<object, Map<string, number>>();

/** Raises a counter to a total counted elsewhere (never lowers it). */
export function catchUp<L extends string>(
  counter: Counter<L>,
  labels: Partial<Record<L, string>>,
  total: number,
): void {
  const seen = caughtUp.get(counter) ?? new Map<string, number>();
  caughtUp.set(counter, seen);
  const key = JSON.stringify(labels);
  const current = seen.get(key) ?? 0;
  if (total > current) counter.inc(labels, total - current);
  seen.set(key, Math.max(current, total));
}
