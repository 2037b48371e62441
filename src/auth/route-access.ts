import { SetMetadata } from '@nestjs/common';

/**
 * Who may call a route when API keys are configured. Every route is `protected` unless marked otherwise, so a
 * new route needs a key until someone decides it should not.
 *   public   always open (health, liveliness from the servers, the dashboard page)
 *   spawn    open unless SPAWN_AUTH=required (HOOPS viewer clients send no credentials)
 *   metrics  open when METRICS_PUBLIC=true
 */
export type RouteAccess = 'public' | 'spawn' | 'metrics' | 'protected';

export const ROUTE_ACCESS = 'sc-spawner:route-access';
export const QUERY_TOKEN = 'sc-spawner:query-token';

/** Always open, keys or not. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, 'public');
/** A spawn route: open unless SPAWN_AUTH=required. */
export const SpawnAccess = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, 'spawn');
/** The metrics route: open when METRICS_PUBLIC=true. */
export const MetricsAccess = (): MethodDecorator & ClassDecorator => SetMetadata(ROUTE_ACCESS, 'metrics');
/**
 * The key may also come as the `access_token` query parameter: for event streams only, since a browser's
 * EventSource cannot send headers. The access log masks it.
 */
export const AcceptsQueryToken = (): MethodDecorator => SetMetadata(QUERY_TOKEN, true);

/** Whether a route with this marking needs a key, given the settings. */
export function needsKey(
  access: RouteAccess | undefined,
  settings: { spawnAuthRequired: boolean; metricsPublic: boolean },
): boolean {
  switch (access) {
    case 'public':
      return false;
    case 'spawn':
      return settings.spawnAuthRequired;
    case 'metrics':
      return !settings.metricsPublic;
    default:
      return true;
  }
}
