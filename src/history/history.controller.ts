import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../http';
import { HistoryDto } from './history.dto';
import { HistoryRecorder } from './history.recorder';

@ApiTags('dashboard')
@Controller('api/history')
export class HistoryController {
  constructor(private readonly recorder: HistoryRecorder) {}

  @Get()
  @ApiOperation({
    summary: 'The last hour per minute: sessions live, start-up time percentiles, rejections by reason',
  })
  @ApiOkResponse({ type: HistoryDto })
  @ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'API_KEYS is set and no valid key was given' })
  history(): HistoryDto {
    return this.recorder.snapshot();
  }
}
