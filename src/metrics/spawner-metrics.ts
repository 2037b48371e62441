import { Injectable } from '@nestjs/common';
import { RENDERER_TYPES, SC_EXIT_CODES } from '@app/sc-protocol';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { catchUp, METRICS_PREFIX, registerScrapeGauges, type ScrapeSources } from './scrape-gauges';

export { METRICS_PREFIX, type ScrapeSources };

/**
 * How often the event-loop lag histogram (nodejs_eventloop_lag_*) takes a sample. prom-client's default, 10 ms, is a
 * timer that wakes an idle service 100 times a second (measured: 101 wake-ups/s against 14); a stall still shows as
 * one late sample at any rate, and a 15 s scrape interval still holds 150 samples.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

export const SPAWN_OUTCOMES = ['ready', 'failed', 'timed_out', 'aborted'] as const;
export type SpawnOutcome = (typeof SPAWN_OUTCOMES)[number];
export const REJECTION_REASONS = [
  'capacity',
  'ports',
  'rate_limit',
  'shutting_down',
  'draining',
  'invalid',
  'disabled',
  'quota',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

const EXIT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(SC_EXIT_CODES).map(([name, code]) => [code, name.toLowerCase()]),
);

/** An exit as a metric label: the exit code's name (success, invalid_license...), the signal, or launch_error. */
export function exitReasonLabel(code: number | null | undefined, signal: string | null | undefined): string {
  if (code !== null && code !== undefined) return EXIT_NAMES[code] ?? `code_${code}`;
  return signal ?? 'launch_error';
}

/**
 * The service's own Prometheus registry: process defaults plus the sc_spawner_* metrics (names are stable, see
 * docs/operations.md). Gauges are read at scrape time through collect(); counters are fed by the observers.
 */
@Injectable()
export class SpawnerMetrics {
  readonly registry = new Registry();
  private sources?: ScrapeSources;
  private proxyConnectionsSource: () => number = () => 0;

  readonly spawnDuration = new Histogram({
    name: `${METRICS_PREFIX}spawn_duration_seconds`,
    help: 'Time from launch until the spawn was ready, failed, timed out or was aborted',
    labelNames: ['renderer', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly spawnsTotal = new Counter({
    name: `${METRICS_PREFIX}spawns_total`,
    help: 'Spawns that left the starting state, by renderer and outcome',
    labelNames: ['renderer', 'outcome'],
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: `${METRICS_PREFIX}spawn_rejections_total`,
    help: 'Spawn requests refused before a server was started, by reason (and key name, for quota)',
    labelNames: ['reason', 'key'],
    registers: [this.registry],
    // Quota refusals are counted by the supervisor (all three spawn paths) and caught up here at scrape time.
    collect: () => {
      for (const [key, count] of this.sources?.quotaRejections?.() ?? []) {
        catchUp(this.rejections, { reason: 'quota', key }, count);
      }
    },
  });
  readonly serverExits = new Counter({
    name: `${METRICS_PREFIX}server_exits_total`,
    help: 'Stream Cache Server exits, by exit-code meaning or signal',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly livelinessReports = new Counter({
    name: `${METRICS_PREFIX}liveliness_reports_total`,
    help: 'Liveliness reports received from the servers, by value',
    labelNames: ['value'],
    registers: [this.registry],
  });
  /** Payload bytes relayed so far per direction, kept by the proxy as plain numbers (a labelled inc() per frame costs microseconds). */
  private proxyBytesSource: () => Readonly<Record<'toServer' | 'toViewer', number>> = () => ({
    toServer: 0,
    toViewer: 0,
  });
  readonly proxyBytes = new Counter({
    name: `${METRICS_PREFIX}proxy_bytes_total`,
    help: 'WebSocket payload bytes relayed by the proxy, by direction',
    labelNames: ['direction'],
    registers: [this.registry],
    collect: () => {
      const totals = this.proxyBytesSource();
      for (const direction of ['toServer', 'toViewer'] as const)
        catchUp(this.proxyBytes, { direction }, totals[direction]);
    },
  });
  readonly sweepDuration = new Histogram({
    name: `${METRICS_PREFIX}sweep_duration_seconds`,
    help: 'Time taken by one timeout sweep',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    const sources = (): ScrapeSources | undefined => this.sources;
    const proxyConnections = (): number => this.proxyConnectionsSource();
    registerScrapeGauges(this.registry, sources, proxyConnections);
    // Zeros from the start, so rate() and absent-series alerts work before the first event.
    for (const renderer of RENDERER_TYPES) {
      for (const outcome of SPAWN_OUTCOMES) this.spawnsTotal.inc({ renderer, outcome }, 0);
    }
    for (const reason of REJECTION_REASONS) if (reason !== 'quota') this.rejections.inc({ reason }, 0);
    for (const reason of Object.values(EXIT_NAMES)) this.serverExits.inc({ reason }, 0);
    for (const direction of ['toServer', 'toViewer']) this.proxyBytes.inc({ direction }, 0);
  }

  private readonly rejectionListeners: Array<(reason: RejectionReason) => void> = [];

  readFrom(sources: ScrapeSources): void {
    this.sources = sources;
  }

  countProxyBytesWith(source: () => Readonly<Record<'toServer' | 'toViewer', number>>): void {
    this.proxyBytesSource = source;
  }

  countProxyConnectionsWith(source: () => number): void {
    this.proxyConnectionsSource = source;
  }

  rejected(reason: RejectionReason): void {
    this.rejections.inc({ reason });
    for (const listener of this.rejectionListeners) listener(reason);
  }

  /** Tells `listener` of every rejection counted from now on (the history). */
  onRejection(listener: (reason: RejectionReason) => void): void {
    this.rejectionListeners.push(listener);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The spawn routes, whose refusals are counted as rejections. */
const SPAWN_ROUTE_PATHS = new Set(['/spawn', '/api/spawn', '/service']);

export function isSpawnRoute(method: string, routePath: unknown): boolean {
  return method === 'POST' && typeof routePath === 'string' && SPAWN_ROUTE_PATHS.has(routePath);
}
