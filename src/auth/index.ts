/** Who may call what: API keys, their roles per route, the session owner, and the per-client bucket. */
export { AuthModule } from './auth.module';
export { WWW_AUTHENTICATE } from './api-key.guard';
export { ApiKeys } from './api-keys';
export { clientBucket } from './client-bucket';
export {
  AcceptsQueryToken,
  MetricsAccess,
  needsKey,
  Public,
  ROUTE_ACCESS,
  type RouteAccess,
  SpawnAccess,
} from './route-access';
export { bearerKey, sessionOwner } from './session-owner';
