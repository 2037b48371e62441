import { Inject, Injectable } from '@nestjs/common';
import type { RendererType } from '@app/sc-protocol';
import { LivelinessEndpoint } from '../../adapters';
import {
  CHILD_ENV_SETTINGS,
  type ChildEnvSettings,
  RENDERING_SETTINGS,
  type RenderingSettings,
  SERVERS_SETTINGS,
  type ServersSettings,
  TIMING_SETTINGS,
  type TimingSettings,
  WARM_POOL_SETTINGS,
  type WarmPoolSettings,
} from '../../config';
import { CpuPriority } from '../../cpu-priority';
import { chooseGpu } from '../rules/gpu-allocation';
import { buildScCommand, type ServerCommand, type ServerCommandSettings } from '../rules/sc-command';
import type { SpawnSpec } from '../rules/spawn-record';
import { SpawnRegistry } from './spawn-registry';

/**
 * Each server's command: the command-line rules given the five settings sections they read, the liveliness
 * endpoint and the CPU placement; and the GPU an SSR server gets.
 */
@Injectable()
export class ServerCommands {
  private readonly settings: ServerCommandSettings;
  /**
   * The service's environment, copied once: every read of process.env goes through the runtime's environment
   * accessors, and filtering it took 0.11-0.15 ms per spawn against 0.01-0.03 ms for the copy. The service's
   * environment does not change while it runs.
   */
  private readonly baseEnv: NodeJS.ProcessEnv = { ...process.env };

  constructor(
    @Inject(SERVERS_SETTINGS.token) servers: ServersSettings,
    @Inject(CHILD_ENV_SETTINGS.token) childEnv: ChildEnvSettings,
    @Inject(TIMING_SETTINGS.token) timing: TimingSettings,
    @Inject(WARM_POOL_SETTINGS.token) warmPool: WarmPoolSettings,
    @Inject(RENDERING_SETTINGS.token) private readonly rendering: RenderingSettings,
    private readonly registry: SpawnRegistry,
    private readonly livelinessEndpoint: LivelinessEndpoint,
    private readonly priority: CpuPriority,
  ) {
    this.settings = { ...servers, ...childEnv, ...timing, ...this.rendering, ...warmPool };
  }

  /** SSR only: the least-loaded of SC_SSR_GPU_COUNT GPUs, or the fixed SC_SSR_GPU_INDEX; none otherwise (the server's default). */
  gpuFor(rendererType: RendererType): number | undefined {
    if (rendererType !== 'ssr') return undefined;
    if (this.rendering.ssrGpuCount === undefined) return this.rendering.ssrGpuIndex;
    const live = this.registry.liveEntries().map((entry) => entry.record.spec);
    return chooseGpu(live, this.rendering.ssrGpuCount);
  }

  commandFor(spec: SpawnSpec): ServerCommand {
    const command = buildScCommand(this.settings, spec, this.livelinessEndpoint.baseUrl(), this.baseEnv);
    command.placement = this.priority.placementFor(spec.id);
    return command;
  }
}
