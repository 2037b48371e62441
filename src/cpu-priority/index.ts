/**
 * Server CPU priority: how this machine schedules (autogroup, cgroup v1/v2), the mechanism chosen, the
 * cgroups it owns and the leftovers of dead services.
 */
export { CpuPriorityModule } from './cpu-priority.module';
export { CpuPriority } from './cpu-priority.service';
