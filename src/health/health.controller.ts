import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import type { Request } from 'express';
import { ApiKeys, bearerKey, Public } from '../auth';
import { SpawnerHealthIndicator } from './spawner.health';

const DETAILS = {
  activeSpawns: 1,
  maxSpawns: 32,
  freePorts: 63,
  busyPorts: 0,
  states: {
    starting: 0,
    ready: 1,
    connected: 0,
    disconnected: 0,
    unresponsive: 0,
    timed_out: 0,
    terminating: 0,
    failed: 0,
    exited: 2,
  },
};
const UP = {
  status: 'ok',
  info: { spawner: { status: 'up', ...DETAILS } },
  error: {},
  details: { spawner: { status: 'up', ...DETAILS } },
};
const DOWN_SPAWNER = { status: 'down', reason: 'at capacity: all 32 spawn slots in use', ...DETAILS, activeSpawns: 32 };
const DOWN = { status: 'error', info: {}, error: { spawner: DOWN_SPAWNER }, details: { spawner: DOWN_SPAWNER } };
const INDICATOR = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['up', 'down'] },
    reason: { type: 'string', description: 'Why not ready (down only)' },
    activeSpawns: { type: 'integer' },
    maxSpawns: { type: 'integer' },
    freePorts: { type: 'integer', description: 'Ports that could be leased now' },
    busyPorts: { type: 'integer', description: 'Ports held by another program when last probed' },
    states: { type: 'object', additionalProperties: { type: 'integer' }, description: 'Spawns per state' },
  },
};
/** Terminus's response shape, with this service's one indicator (`spawner`) rather than Terminus's stock example. */
const HEALTH_SCHEMA = {
  type: 'object' as const,
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', properties: { spawner: INDICATOR } },
    error: { type: 'object', properties: { spawner: INDICATOR } },
    details: { type: 'object', properties: { spawner: INDICATOR } },
  },
};

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly spawner: SpawnerHealthIndicator,
    private readonly keys: ApiKeys,
  ) {}

  /** Whether the caller may see the details: no keys are set, or it sent a valid one. */
  private full(request: Request): boolean {
    return !this.keys.enabled || this.keys.matches(bearerKey(request.headers.authorization));
  }

  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    summary: 'Liveness: 200 while the service runs, with activeSpawns, maxSpawns, freePorts and a count per state',
  })
  @ApiOkResponse({
    description: 'The service runs',
    content: { 'application/json': { schema: HEALTH_SCHEMA, example: UP } },
  })
  check(@Req() request: Request) {
    const full = this.full(request);
    return this.health.check([() => this.spawner.liveness(full)]);
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({
    summary:
      'Readiness for load balancers: 503 when at capacity, out of ports, shutting down or the executable is missing',
  })
  @ApiOkResponse({
    description: 'A spawn would be accepted',
    content: { 'application/json': { schema: HEALTH_SCHEMA, example: UP } },
  })
  @ApiServiceUnavailableResponse({
    description: 'At capacity, out of ports, shutting down, or the executable is missing (reason says which)',
    content: { 'application/json': { schema: HEALTH_SCHEMA, example: DOWN } },
  })
  ready(@Req() request: Request) {
    const full = this.full(request);
    return this.health.check([() => this.spawner.readiness(full)]);
  }
}
