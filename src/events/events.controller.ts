import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Clock } from '../adapters';
import { filter } from 'rxjs';
import { AcceptsQueryToken } from '../auth';
import { ACCESS_SETTINGS, type AccessSettings } from '../config';
import { isTerminal } from '../supervisor';
import { ErrorResponseDto } from '../http';
import { SupervisorService } from '../supervisor';
import { EventStream } from './event-stream';

/** @ApiProduces alone puts no media type in the document (the 200 has no content); this does. */
const EVENT_STREAM_RESPONSE = {
  description:
    'text/event-stream: `data: {"id","state","previousState","at","detail"}` per state change; `event: expiring` with `data: {"id","event","reason","secondsLeft","at"}` before a session limit ends a session (`event: expiring_cancelled` when activity cancels an idle warning); `: keep-alive` comments between',
  content: { 'text/event-stream': { schema: { type: 'string' } } },
};

/** Server-sent state changes: `data: {"id","state","previousState","at","detail"}` per change, `: keep-alive` comments between. */
@ApiTags('events')
@Controller()
export class EventsController {
  constructor(
    private readonly supervisor: SupervisorService,
    @Inject(ACCESS_SETTINGS.token) private readonly access: AccessSettings,
    private readonly clock: Clock,
  ) {}

  @Get('events')
  @AcceptsQueryToken()
  @ApiProduces('text/event-stream')
  @ApiOkResponse(EVENT_STREAM_RESPONSE)
  @ApiOperation({ summary: "Every spawn's state changes, as server-sent events" })
  all(@Res() response: Response): void {
    const stream = this.openStream(response);
    const subscription = this.supervisor.changes$.subscribe({
      next: (event) => stream.send(event),
      complete: () => stream.close(),
    });
    const notices = this.supervisor.notices$.subscribe((notice) => stream.send(notice, notice.event));
    stream.onClose(() => (subscription.unsubscribe(), notices.unsubscribe()));
  }

  @Get('spawns/:id/events')
  @AcceptsQueryToken()
  @ApiProduces('text/event-stream')
  @ApiOkResponse(EVENT_STREAM_RESPONSE)
  @ApiOperation({
    summary:
      "One spawn's state changes as server-sent events: its current state first; the stream ends once it has exited",
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No spawn has this id' })
  one(@Param('id') id: string, @Res() response: Response): void {
    const record = this.supervisor.find(id);
    const stream = this.openStream(response);
    stream.send({
      id,
      state: record.state,
      previousState: null,
      at: this.clock.toDate(record.stateChangedAt).toISOString(),
      detail: 'current state',
    });
    if (isTerminal(record.state)) {
      stream.close();
      return;
    }
    const subscription = this.supervisor.changes$.pipe(filter((event) => event.id === id)).subscribe({
      next: (event) => {
        stream.send(event);
        if (isTerminal(event.state)) stream.close();
      },
      complete: () => stream.close(),
    });
    const notices = this.supervisor.notices$
      .pipe(filter((notice) => notice.id === id))
      .subscribe((notice) => stream.send(notice, notice.event));
    stream.onClose(() => (subscription.unsubscribe(), notices.unsubscribe()));
  }

  private openStream(response: Response): EventStream {
    return new EventStream(response, this.access.sseKeepAliveMs);
  }
}
