import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { Clock, FileSystem } from '../adapters';
import { SCALE_OUT_SETTINGS, type ScaleOutSettings } from '../config';
import { packageRoot } from '../startup';
import { portsForNewSession, SupervisorService } from '../supervisor';
import type { NodeEntry } from './cluster.types';
import { decideNodeState } from './node-state';

/** The version in package.json, read through the FileSystem adapter ('unknown' when it cannot be read). */
function readVersion(files: FileSystem): string {
  try {
    const text = files.readText(path.join(packageRoot(__dirname), 'package.json'), 1 << 20);
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** This node's own entry in the fleet view, read from the supervisor. */
@Injectable()
export class SelfEntry {
  private readonly version: string;
  /** This process's id in the fleet (GET /cluster/self): new at every start, so no other node can share it. */
  readonly instance = randomUUID();

  constructor(
    private readonly supervisor: SupervisorService,
    @Inject(SCALE_OUT_SETTINGS.token) private readonly scaleOut: ScaleOutSettings,
    private readonly clock: Clock,
    files: FileSystem,
  ) {
    this.version = readVersion(files);
  }

  get name(): string {
    return this.scaleOut.nodeName;
  }

  /** `url`: this node's address as the client reached it. */
  read(url: string): NodeEntry {
    const capacity = this.supervisor.capacity();
    const byRenderer: Record<string, number> = { csr: 0, ssr: 0 };
    for (const spawn of this.supervisor.list()) {
      if (spawn.endedAt === undefined) byRenderer[spawn.spec.rendererType] += 1;
    }
    const state = decideNodeState({
      draining: capacity.draining,
      shuttingDown: capacity.shuttingDown,
      canAcceptSpawn: capacity.canAcceptSpawn,
      freePorts: portsForNewSession(capacity),
    });
    return {
      name: this.scaleOut.nodeName,
      url,
      state,
      instance: this.instance,
      capacity: { max: capacity.maxSpawns, active: capacity.activeSpawns, freePorts: capacity.ports.free },
      sessions: { byState: { ...capacity.states }, byRenderer },
      warm: { csr: capacity.warm.csr, ssr: capacity.warm.ssr, target: { ...capacity.warm.target } },
      version: this.version,
      readAt: this.clock.toDate(this.clock.now()).toISOString(),
    };
  }
}
