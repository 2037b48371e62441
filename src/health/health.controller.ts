import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/route-access';
import { SpawnerHealthIndicator } from './spawner.health';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly spawner: SpawnerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({
    summary: 'Liveness: 200 while the service runs, with activeSpawns, maxSpawns, freePorts and a count per state',
  })
  check() {
    return this.health.check([() => this.spawner.liveness()]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness for load balancers: 503 when at capacity, out of ports, shutting down or the executable is missing',
  })
  ready() {
    return this.health.check([() => this.spawner.readiness()]);
  }
}
