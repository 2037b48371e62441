import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CLOSE_REASONS, CLOSE_STOPPED_BY_OPERATOR } from '@app/sc-protocol';
import { ApiKeys, SpawnAccess, bearerKey, sessionOwner } from '../auth';
import { SESSION_LIMITS_SETTINGS, type SessionLimitsSettings } from '../config';
import { abortOnClientGone, RETRY_AFTER_HEADER, ErrorResponseDto, whenAnswerLost } from '../http';
import { printableLine } from '../logging';
import { SpawnRateLimitGuard } from '../rate-limit';
import { SupervisorService } from '../supervisor';
import { CreateSpawnDto } from './dto/create-spawn.dto';
import { LogLineDto, SpawnViewDto } from './dto/spawn-view.dto';
import { SpawnPresenter } from './spawn-presenter';
import { lifetimeAboveNodeLimit } from './session-lifetime';
import { SpawnSheddingGuard } from './spawn-shedding.guard';

@ApiTags('spawns')
@Controller()
export class SpawnController {
  constructor(
    private readonly supervisor: SupervisorService,
    private readonly presenter: SpawnPresenter,
    private readonly keys: ApiKeys,
    @Inject(SESSION_LIMITS_SETTINGS.token) private readonly limits: SessionLimitsSettings,
  ) {}

  @Post('spawn')
  @HttpCode(200)
  @SpawnAccess()
  @UseGuards(SpawnSheddingGuard, SpawnRateLimitGuard)
  @ApiOperation({ summary: 'Start a Stream Cache Server; answers once it reports ready' })
  @ApiOkResponse({ type: SpawnViewDto, description: 'The server is ready; connect the viewer to `endpoint`' })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description:
      'Invalid body; the message names the field and the rule (10 at most, then how many more), or the limit ' +
      'the body broke (nesting, keys in an object)',
  })
  @ApiForbiddenResponse({ type: ErrorResponseDto, description: 'That rendering mode is disabled' })
  @ApiConflictResponse({ type: ErrorResponseDto, description: 'The spawn was stopped (DELETE) before it was ready' })
  @ApiBadGatewayResponse({
    type: ErrorResponseDto,
    description: 'The server exited before ready (exit code and its meaning; its output: GET /spawns/:id/logs)',
  })
  @ApiServiceUnavailableResponse({
    headers: RETRY_AFTER_HEADER,
    type: ErrorResponseDto,
    description: 'No slot or port free, or shutting down; see Retry-After',
  })
  @ApiGatewayTimeoutResponse({
    type: ErrorResponseDto,
    description: 'Not ready within SPAWN_READY_TIMEOUT_S; it was stopped',
  })
  @ApiTooManyRequestsResponse({
    headers: RETRY_AFTER_HEADER,
    type: ErrorResponseDto,
    description: 'SPAWN_RATE_LIMIT reached for this client, or its key at SC_KEY_MAX_SESSIONS; see Retry-After',
  })
  async create(
    @Body() body: CreateSpawnDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<SpawnViewDto> {
    const maxSessionS = body.maxSessionSeconds;
    const tooLong = lifetimeAboveNodeLimit(maxSessionS, this.limits.maxSessionS);
    if (tooLong) throw tooLong;
    const clientGone = abortOnClientGone(response);
    const spawn = await this.supervisor.spawn(
      {
        rendererType: body.rendererType ?? 'csr',
        model: body.model,
        sessionToken: body.sessionToken,
        origin: 'api',
        owner: sessionOwner(this.keys, bearerKey(request.headers.authorization), request.ip),
        maxSessionS,
      },
      clientGone,
    );
    whenAnswerLost(clientGone, () => this.stopUnanswered(spawn.id));
    return this.presenter.toView(spawn, request);
  }

  /** Its client never read the answer, the one place its id went: nobody else could use or stop the session. */
  private stopUnanswered(id: string): void {
    if (this.supervisor.get(id)) this.supervisor.stop(id, 'its client went away before the answer reached it');
  }

  @Get('spawns')
  @ApiOperation({ summary: 'All spawns: live ones first, then the last 100 that ended' })
  @ApiOkResponse({ type: SpawnViewDto, isArray: true })
  list(@Req() request: Request): SpawnViewDto[] {
    return this.supervisor.list().map((spawn) => this.presenter.toView(spawn, request));
  }

  @Get('spawns/:id')
  @ApiOperation({ summary: 'One spawn, live or recently ended' })
  @ApiOkResponse({ type: SpawnViewDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  get(@Param('id') id: string, @Req() request: Request): SpawnViewDto {
    return this.presenter.toView(this.supervisor.find(id), request);
  }

  @Get('spawns/:id/logs')
  @ApiOperation({
    summary:
      "The server's last 200 stdout/stderr lines (64 Ki characters at most; a line over 16 KiB is cut): JSON, or text/plain when asked for with Accept",
  })
  @ApiProduces('application/json', 'text/plain')
  @ApiOkResponse({ type: LogLineDto, isArray: true })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  logs(
    @Param('id') id: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): LogLineDto[] | string {
    const lines = this.supervisor.logs(id);
    if (request.accepts(['application/json', 'text/plain']) === 'text/plain') {
      response.type('text/plain');
      return lines.map((l) => `${l.at} ${l.stream} ${printableLine(l.line)}\n`).join('');
    }
    return lines;
  }

  @Delete('spawns/:id')
  @HttpCode(202)
  @ApiOperation({ summary: 'Stop a spawn (SIGTERM, then SIGKILL after the grace). Idempotent.' })
  @ApiAcceptedResponse({ type: SpawnViewDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  remove(@Param('id') id: string, @Req() request: Request): SpawnViewDto {
    const close = { code: CLOSE_STOPPED_BY_OPERATOR, reason: CLOSE_REASONS[CLOSE_STOPPED_BY_OPERATOR] };
    return this.presenter.toView(this.supervisor.stop(id, 'stopped by DELETE /spawns/:id', close), request);
  }
}
