import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiInternalServerErrorResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import type { Request, Response } from 'express';
import { LIVELINESS_VALUES } from '@app/sc-protocol';
import { receiveReport } from '../liveliness/liveliness.controller';
import { LocalReporterGuard } from '../liveliness/local-reporter.guard';
import { abortOnClientGone } from '../spawn/spawn.controller';
import { SpawnPresenter } from '../spawn/spawn-presenter';
import { SpawnService } from '../spawn/spawn.service';
import { SupervisorService } from '../supervisor/supervisor.service';
import { HoopsFailureDto, HoopsSpawnDto, HoopsSpawnOkDto } from './dto/hoops-spawn.dto';
import { HoopsStatusService } from './hoops-status.service';
import { ModelDirectoryPolicy } from './model-directories';

/**
 * The shipping HOOPS Server's spawning API, so existing viewer applications work unchanged.
 * Bodies are validated here rather than by the global pipe: unknown keys are ignored, as that server does,
 * and every error takes the `{status: "failed", reason}` shape (see HttpErrorFilter).
 */
@ApiTags('hoops-server-api')
@Controller()
export class HoopsController {
  constructor(
    private readonly spawns: SpawnService,
    private readonly supervisor: SupervisorService,
    private readonly presenter: SpawnPresenter,
    private readonly modelDirectories: ModelDirectoryPolicy,
    private readonly status: HoopsStatusService,
  ) {}

  @Post(['api/spawn', 'service'])
  @HttpCode(200)
  @ApiOperation({ summary: 'HOOPS Server API: start a session (also at the legacy POST /service); answers once ready' })
  @ApiBody({ type: HoopsSpawnDto, required: false })
  @ApiOkResponse({ type: HoopsSpawnOkDto })
  @ApiBadRequestResponse({ type: HoopsFailureDto, description: 'Unknown class or malformed params' })
  @ApiForbiddenResponse({ type: HoopsFailureDto, description: 'That rendering mode is disabled' })
  @ApiInternalServerErrorResponse({ type: HoopsFailureDto, description: 'The server failed to start (exit code and its meaning)' })
  @ApiServiceUnavailableResponse({ type: HoopsFailureDto, description: 'No free slot or port, or shutting down (Retry-After)' })
  @ApiGatewayTimeoutResponse({ type: HoopsFailureDto, description: 'The server was not ready in time and was stopped' })
  async spawn(@Body() body: unknown, @Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<HoopsSpawnOkDto> {
    const clientGone = abortOnClientGone(response);
    const dto = await parseHoopsSpawn(body);
    const params = dto.params ?? {};
    const rendererType = dto.class === 'ssr_session' ? 'ssr' : 'csr';
    this.spawns.assertRendererEnabled(rendererType);
    const extraModelDirs = await this.modelDirectories.resolve(params.modelSearchDirectories);
    const record = await this.spawns.spawnReady(
      { rendererType, model: params.model, sessionToken: params.sessionToken, extraModelDirs },
      clientGone,
    );
    return { result: 'ok', serviceId: record.id, endpoints: { ws: this.presenter.endpointsOf(record, request).advertised } };
  }

  @Get('api/status')
  @ApiOperation({ summary: 'HOOPS Server API: counts of ports and spawns per state, and the non-secret configuration' })
  getStatus() {
    return this.status.status();
  }

  @Get('api/spawns')
  @ApiOperation({ summary: 'HOOPS Server API: every spawn with its state, spawn time and last update time' })
  listSpawns(@Req() request: Request) {
    return {
      timestamp: new Date().toISOString(),
      spawns: this.supervisor.list().map((record) => {
        const view = this.presenter.toView(record, request);
        return {
          ...view,
          spawnTime: view.startedAt,
          lastUpdateTime: new Date(Math.max(record.stateChangedAt, record.lastReportAt ?? 0)).toISOString(),
        };
      }),
    };
  }

  @Post('api/spawns/:id')
  @HttpCode(204)
  @UseGuards(LocalReporterGuard)
  @ApiOperation({ summary: 'HOOPS Server API: liveliness report from a server (same rules as /liveliness/:id)' })
  @ApiQuery({ name: 'liveliness', enum: LIVELINESS_VALUES })
  @ApiNoContentResponse({ description: 'Report recorded' })
  report(@Param('id') id: string, @Query('liveliness') liveliness: unknown): void {
    receiveReport(this.supervisor, id, liveliness);
  }
}

async function parseHoopsSpawn(raw: unknown): Promise<HoopsSpawnDto> {
  const body = typeof raw === 'string' ? parseTextBody(raw) : raw;
  const plain = body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0) ? {} : body;
  if (typeof plain !== 'object' || Array.isArray(plain)) {
    throw new BadRequestException('the request body must be a JSON object: {"class": "csr_session"|"ssr_session", "params": {...}}');
  }
  const dto = plainToInstance(HoopsSpawnDto, plain);
  const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: false });
  if (errors.length > 0) throw new BadRequestException(describeErrors(errors).join('; '));
  return dto;
}

/** Browser clients may post JSON as text/plain to avoid a CORS preflight; the HOOPS Server reads it as JSON. */
function parseTextBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestException(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

function describeErrors(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...describeErrors(e.children ?? [])]);
}
