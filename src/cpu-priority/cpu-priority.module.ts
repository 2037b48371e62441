import { Logger, Module } from '@nestjs/common';
import { FileSystem, findPerl, SchedulingFiles } from '../adapters';
import {
  ConfigError,
  SERVER_RESOURCES_SETTINGS,
  type ServerResourcesSettings,
  SERVERS_SETTINGS,
  type ServersSettings,
} from '../config';
import { chooseCpuPriority } from './cpu-priority.policy';
import { CpuPriority } from './cpu-priority.service';
import { detectScheduling } from './scheduling-detection';

/** Services created in this process so far. */
let instances = 0;

/** Detects how this machine schedules, picks the mechanism and sets it up; a mechanism that cannot work stops the start-up. */
export function createCpuPriority(
  resources: ServerResourcesSettings,
  servers: Pick<ServersSettings, 'childNice'>,
  schedulingFiles: SchedulingFiles,
  files: FileSystem,
): CpuPriority {
  const facts = detectScheduling(schedulingFiles);
  const perl = findPerl(files);
  const decision = chooseCpuPriority(facts, {
    choice: resources.cpuPriority,
    nice: servers.childNice,
    cpuMaxCores: resources.serverCpuMax,
    memoryMaxBytes: resources.serverMemoryMax,
    pid: process.pid,
    instance: ++instances,
    perl: perl !== undefined,
  });
  if ('problem' in decision) throw new ConfigError([decision.problem]);
  const priority = new CpuPriority(decision.plan, schedulingFiles, perl);
  try {
    priority.setUp();
  } catch (error) {
    throw new ConfigError([
      `CPU priority ${priority.plan.mechanism}: the kernel refused to set up ${priority.plan.detail}: ${(error as Error).message} (set SC_CPU_PRIORITY to another mechanism, see docs/cpu-priority.md)`,
    ]);
  }
  new Logger('CpuPriority').log(`CPU priority: ${priority.plan.mechanism}: ${priority.plan.detail}`);
  return priority;
}

@Module({
  providers: [
    {
      provide: CpuPriority,
      useFactory: createCpuPriority,
      inject: [SERVER_RESOURCES_SETTINGS.token, SERVERS_SETTINGS.token, SchedulingFiles, FileSystem],
    },
  ],
  exports: [CpuPriority],
})
export class CpuPriorityModule {}
