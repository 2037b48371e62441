import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Clock } from '../adapters/clock.adapter';
import { ClientError } from '../http/http-error';
import { CreateSpawnDto } from '../spawn/dto/create-spawn.dto';
import { ErrorResponseDto } from '../http/error-response.dto';
import { SpawnPresenter } from '../spawn/spawn-presenter';
import { SpawnTickets } from './spawn-tickets';
import { TicketDto } from './dto/ticket.dto';
import { TooManyTicketsError } from './ticket-book';

@ApiTags('spawns')
@Controller()
export class TicketsController {
  constructor(
    private readonly tickets: SpawnTickets,
    private readonly presenter: SpawnPresenter,
    private readonly clock: Clock,
  ) {}

  @Post('tickets')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A single-use spawn ticket for a browser viewer (spawn on connect with ?ticket=)',
    description:
      "The application's back end asks with its key and hands `url` to its page, which opens it as a WebSocket: a server is spawned with these parameters and the viewer joined to it. The ticket is valid once, for SC_TICKET_TTL_S seconds, on this node only. Needed for spawn on connect under SPAWN_AUTH=required (browsers cannot send an Authorization header on a WebSocket).",
  })
  @ApiOkResponse({ type: TicketDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Invalid body, as for POST /spawn' })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'Too many tickets waiting for their viewers' })
  create(@Body() body: CreateSpawnDto, @Req() request: Request): TicketDto {
    const rendererType = body.rendererType ?? 'csr';
    let issued: { ticket: string; expiresAt: number };
    try {
      issued = this.tickets.issue(
        { rendererType, model: body.model, sessionToken: body.sessionToken },
        this.clock.now(),
      );
    } catch (error) {
      if (error instanceof TooManyTicketsError) throw new ClientError(503, error.message);
      throw error;
    }
    const query = new URLSearchParams({ renderingLocation: rendererType, ticket: issued.ticket });
    return {
      ticket: issued.ticket,
      url: this.presenter.nodeWsUrl(request, `?${query.toString()}`),
      expiresAt: new Date(issued.expiresAt).toISOString(),
    };
  }
}
