/** Terminus health routes for load balancers: liveness, readiness and the spawns they report. */
export { HealthModule } from './health.module';
export { executableProblem } from './executable-problem';
