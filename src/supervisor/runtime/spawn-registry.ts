import { Inject, Injectable } from '@nestjs/common';
import type { LaunchedProcess } from '../../adapters';
import { CAPACITY_SETTINGS, type CapacitySettings } from '../../config';
import { SpawnRecord } from '../rules/spawn-record';
import { isTerminal, SPAWN_STATES, SpawnState } from '../rules/spawn-state';

export const ENDED_SPAWNS_KEPT = 100;

export interface Waiter {
  resolve(record: SpawnRecord): void;
  reject(error: Error): void;
}

/** A spawn whose process holds a slot and a port. */
export interface LiveSpawn {
  record: SpawnRecord;
  process?: LaunchedProcess;
  /** While its process is being started: settles once the pid is known or nothing was started. */
  launching?: Promise<void>;
  waiters: Waiter[];
}

/** Which spawns exist: the live ones, the last ENDED_SPAWNS_KEPT that ended, and the slots being reserved. */
@Injectable()
export class SpawnRegistry {
  private readonly live = new Map<string, LiveSpawn>();
  private readonly ended = new Map<string, SpawnRecord>();
  /** Slots taken by launches still leasing a port, so concurrent requests cannot exceed SC_MAX_SPAWNS. */
  private reservedSlots = 0;
  /** Live spawns on their way out whose slot a launch has reserved already: one slot, counted once. */
  private readonly handedOver = new Set<string>();
  /** Set once shutdown begins: no spawn is started after that. */
  shuttingDown = false;
  /** Set once a drain begins: no new spawn, the live ones go on until they end or the shutdown stops them. */
  draining = false;

  constructor(@Inject(CAPACITY_SETTINGS.token) private readonly capacity: CapacitySettings) {}

  /** Shutting down or draining: no new spawn, and the warm pool neither refills nor counts failures. */
  get takesNoNewSpawns(): boolean {
    return this.shuttingDown || this.draining;
  }

  /** Spawns that hold a slot: live processes plus launches in progress (a slot handed over between them once). */
  activeCount(): number {
    return this.live.size + this.reservedSlots - this.handedOver.size;
  }

  hasFreeSlot(): boolean {
    return this.activeCount() < this.capacity.maxSpawns;
  }

  reserveSlot(): void {
    this.reservedSlots++;
  }

  releaseSlot(): void {
    this.reservedSlots--;
  }

  /** Reserves, for a launch, the slot of a live spawn being stopped: it counts once, as that spawn's, until its exit. */
  reserveSlotOf(id: string): void {
    this.reservedSlots++;
    this.handedOver.add(id);
  }

  /** A launch gave up the slot it reserved from a spawn (whether or not that spawn has exited since). */
  releaseSlotOf(id: string): void {
    this.handedOver.delete(id);
    this.reservedSlots--;
  }

  /** Whether a launch already waits for this spawn's slot. */
  isHandedOver(id: string): boolean {
    return this.handedOver.has(id);
  }

  has(id: string): boolean {
    return this.live.has(id) || this.ended.has(id);
  }

  liveEntry(id: string): LiveSpawn | undefined {
    return this.live.get(id);
  }

  /** The live spawn whose relay capability this is. */
  byRelayToken(token: string): SpawnRecord | undefined {
    for (const { record } of this.live.values()) if (record.relayToken === token) return record;
    return undefined;
  }

  liveEntries(): LiveSpawn[] {
    return [...this.live.values()];
  }

  get liveCount(): number {
    return this.live.size;
  }

  unclaimedWarmCount(): number {
    let count = 0;
    for (const { record } of this.live.values()) if (record.isUnclaimedWarm) count++;
    return count;
  }

  /** Unclaimed warm servers whose slot no launch has taken yet: each would give it up to a cold request. */
  spareWarmCount(): number {
    let count = 0;
    for (const { record } of this.live.values()) if (record.isUnclaimedWarm && !this.handedOver.has(record.id)) count++;
    return count;
  }

  /** Live spawns a viewer has (or asked for): warm servers still waiting in the pool are not counted. */
  liveSessionCount(): number {
    let count = 0;
    for (const { record } of this.live.values()) if (!isTerminal(record.state) && !record.isUnclaimedWarm) count++;
    return count;
  }

  record(id: string): SpawnRecord | undefined {
    return this.live.get(id)?.record ?? this.ended.get(id);
  }

  /** Live spawns first (oldest first), then ended ones (most recent first). */
  records(): SpawnRecord[] {
    return [...[...this.live.values()].map((s) => s.record), ...[...this.ended.values()].reverse()];
  }

  countByState(): Record<SpawnState, number> {
    const counts = Object.fromEntries(SPAWN_STATES.map((s) => [s, 0])) as Record<SpawnState, number>;
    for (const record of this.records()) counts[record.state]++;
    return counts;
  }

  /** Registers a live spawn; `fromReservedSlot`: it takes the slot its launch reserved (in the same step, so never counted twice). */
  addLive(record: SpawnRecord, options: { fromReservedSlot?: boolean } = {}): LiveSpawn {
    const entry: LiveSpawn = { record, waiters: [] };
    this.live.set(record.id, entry);
    if (options.fromReservedSlot) this.reservedSlots--;
    return entry;
  }

  /** The spawn's process is gone: it moves to the bounded history. */
  moveToEnded(id: string): void {
    const entry = this.live.get(id);
    if (!entry) return;
    this.live.delete(id);
    this.handedOver.delete(id);
    this.ended.set(id, entry.record);
    while (this.ended.size > ENDED_SPAWNS_KEPT) this.ended.delete(this.ended.keys().next().value!);
  }
}
