import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Clock } from '../adapters';
import { ApiKeys, bearerKey, sessionOwner } from '../auth';
import {
  RENDERING_SETTINGS,
  type RenderingSettings,
  SESSION_LIMITS_SETTINGS,
  type SessionLimitsSettings,
} from '../config';
import { ClientError, RETRY_AFTER_HEADER, ErrorResponseDto } from '../http';
import { CreateSpawnDto, SpawnPresenter, lifetimeAboveNodeLimit } from '../spawn';
import { SupervisorService } from '../supervisor';
import { SpawnTickets } from './spawn-tickets';
import { TicketDto } from './dto/ticket.dto';
import { TicketCapError, TooManyTicketsError } from './ticket-book';
import { ticketCapFor } from './ticket-cap';
import { unusableTicket } from './ticket-use';

@ApiTags('spawns')
@Controller()
export class TicketsController {
  constructor(
    private readonly tickets: SpawnTickets,
    private readonly presenter: SpawnPresenter,
    private readonly supervisor: SupervisorService,
    private readonly keys: ApiKeys,
    private readonly clock: Clock,
    @Inject(RENDERING_SETTINGS.token) private readonly rendering: RenderingSettings,
    @Inject(SESSION_LIMITS_SETTINGS.token) private readonly limits: SessionLimitsSettings,
  ) {}

  @Post('tickets')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A single-use spawn ticket for a browser viewer (spawn on connect with ?ticket=)',
    description:
      "The application's back end asks with its key and hands `url` to its page, which opens it as a WebSocket: a server is spawned with these parameters and the viewer joined to it. The session is the key's: it counts against the key's SC_KEY_MAX_SESSIONS quota and shows its name as `key`. The ticket is valid once, for SC_TICKET_TTL_S seconds, on this node only. Needed for spawn on connect under SPAWN_AUTH=required (browsers cannot send an Authorization header on a WebSocket).",
  })
  @ApiOkResponse({ type: TicketDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid body, as for POST /spawn' })
  @ApiForbiddenResponse({
    type: ErrorResponseDto,
    description: 'That rendering mode is disabled, or spawn on connect is off (SPAWN_ON_CONNECT=false)',
  })
  @ApiTooManyRequestsResponse({
    type: ErrorResponseDto,
    headers: RETRY_AFTER_HEADER,
    description:
      'The key (or client address) is at its SC_KEY_MAX_SESSIONS quota, or already has as many tickets waiting as it may (its quota, at most 100); see Retry-After',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    headers: RETRY_AFTER_HEADER,
    description: 'Too many tickets waiting for their viewers; or the node is draining or stopping (with Retry-After)',
  })
  create(@Body() body: CreateSpawnDto, @Req() request: Request): TicketDto {
    const rendererType = body.rendererType ?? 'csr';
    const unusable = unusableTicket(rendererType, this.rendering, this.supervisor.refusalForEveryRequest());
    if (unusable) throw unusable;
    const tooLong = lifetimeAboveNodeLimit(body.maxSessionSeconds, this.limits.maxSessionS);
    if (tooLong) throw tooLong;
    const issuer = sessionOwner(this.keys, bearerKey(request.headers.authorization), request.ip);
    // The binding check is at the upgrade; this one saves the viewer a ticket that would be refused.
    const standing = this.supervisor.quotaStanding(issuer);
    if (standing.exceeded) throw standing.exceeded;
    let issued: { ticket: string; expiresAt: number };
    try {
      const spec = {
        rendererType,
        model: body.model,
        sessionToken: body.sessionToken,
        maxSessionS: body.maxSessionSeconds,
      };
      issued = this.tickets.issue(spec, issuer, ticketCapFor(standing.limit), this.clock.now());
    } catch (error) {
      if (error instanceof TicketCapError) throw new ClientError(429, error.message, error.retryAfterS);
      if (error instanceof TooManyTicketsError) throw new ClientError(503, error.message);
      throw error;
    }
    const query = new URLSearchParams({ renderingLocation: rendererType, ticket: issued.ticket });
    return {
      ticket: issued.ticket,
      url: this.presenter.nodeWsUrl(request, `?${query.toString()}`),
      expiresAt: this.clock.toDate(issued.expiresAt).toISOString(),
    };
  }
}
