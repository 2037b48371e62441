import type { SettingsSection } from '../settings-section';
import { ACCESS_SETTINGS } from './access.section';
import { CAPACITY_SETTINGS } from './capacity.section';
import { CLUSTER_SETTINGS } from './cluster.section';
import { EDGE_SETTINGS } from './edge.section';
import { LISTENER_SETTINGS } from './listener.section';
import { RENDERING_SETTINGS } from './rendering.section';
import { SCALE_OUT_SETTINGS } from './scale-out.section';
import { SERVER_RESOURCES_SETTINGS } from './server-resources.section';
import { CHILD_ENV_SETTINGS, SERVERS_SETTINGS } from './servers.section';
import { SESSION_LIMITS_SETTINGS } from './session-limits.section';
import { TIMING_SETTINGS } from './timing.section';
import { WARM_POOL_SETTINGS } from './warm-pool.section';

export { ACCESS_SETTINGS, type AccessSettings } from './access.section';
export { CAPACITY_SETTINGS, type CapacitySettings } from './capacity.section';
export { CLUSTER_SETTINGS, type ClusterSettings } from './cluster.section';
export { EDGE_SETTINGS, type EdgeSettings } from './edge.section';
export { LISTENER_SETTINGS, type ListenerSettings } from './listener.section';
export { RENDERING_SETTINGS, type RenderingSettings } from './rendering.section';
export { SCALE_OUT_SETTINGS, type ScaleOutSettings } from './scale-out.section';
export { SERVER_RESOURCES_SETTINGS, type ServerResourcesSettings } from './server-resources.section';
export { CHILD_ENV_SETTINGS, SERVERS_SETTINGS, type ChildEnvSettings, type ServersSettings } from './servers.section';
export { SESSION_LIMITS_SETTINGS, type SessionLimitsSettings } from './session-limits.section';
export { TIMING_SETTINGS, type TimingSettings } from './timing.section';
export { WARM_POOL_SETTINGS, type WarmPoolSettings } from './warm-pool.section';

/** Every section of the settings: the start-up module provides each under its own token. */
export const SETTINGS_SECTIONS: readonly SettingsSection[] = [
  LISTENER_SETTINGS,
  ACCESS_SETTINGS,
  SCALE_OUT_SETTINGS,
  SERVERS_SETTINGS,
  CAPACITY_SETTINGS,
  TIMING_SETTINGS,
  RENDERING_SETTINGS,
  WARM_POOL_SETTINGS,
  SERVER_RESOURCES_SETTINGS,
  CLUSTER_SETTINGS,
  EDGE_SETTINGS,
  SESSION_LIMITS_SETTINGS,
  CHILD_ENV_SETTINGS,
];
