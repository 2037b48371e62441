import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsAccess } from '../auth';
import { SpawnerMetrics } from './spawner-metrics';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: SpawnerMetrics) {}

  @Get()
  @MetricsAccess()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Prometheus metrics (text format): process defaults and sc_spawner_* (see docs/operations.md); open with METRICS_PUBLIC=true',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: {
      'text/plain; version=0.0.4; charset=utf-8': {
        schema: { type: 'string' },
        example: '# TYPE sc_spawner_spawns gauge\nsc_spawner_spawns{state="ready"} 1\n',
      },
    },
  })
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    const text = await this.metrics.text();
    response.type(this.metrics.contentType);
    return text;
  }
}
