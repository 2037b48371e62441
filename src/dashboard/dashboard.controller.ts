import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import * as path from 'path';
import { Public } from '../auth';
import { ErrorResponseDto } from '../http';
import { DASHBOARD_ASSETS, DASHBOARD_CSP, DASHBOARD_PUBLIC_DIR } from './dashboard-assets';

/** The operator's page at `/` and its few static assets under `/assets/`. No other path is touched. */
@ApiTags('dashboard')
@Public()
@Controller()
export class DashboardController {
  @Get()
  @ApiOperation({
    summary: "The operator's dashboard (HTML; its data comes from the API, with the key when API_KEYS is set)",
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  index(@Res() response: Response): void {
    response.setHeader('Content-Security-Policy', DASHBOARD_CSP);
    response.setHeader('Referrer-Policy', 'no-referrer');
    this.send(response, 'index.html', 'text/html; charset=utf-8');
  }

  @Get('assets/:file')
  @ApiOperation({ summary: "The dashboard's script modules, styles and icon" })
  @ApiOkResponse({
    description:
      'main.js (the page module) and the modules it imports (api.js, dom.js, states.js, store.js, errors.js, ' +
      'sessions.js, counts.js, card-view.js, viewer.js, actions.js, feed.js, event-feed.js, capacity.js, chart.js, ' +
      'cluster.js, sessions-cost.js), styles.css or favicon.svg',
    content: {
      'text/javascript': { schema: { type: 'string' } },
      'text/css': { schema: { type: 'string' } },
      'image/svg+xml': { schema: { type: 'string' } },
    },
  })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'Not one of the dashboard files' })
  asset(@Param('file') file: string, @Res() response: Response): void {
    const type = Object.prototype.hasOwnProperty.call(DASHBOARD_ASSETS, file) ? DASHBOARD_ASSETS[file] : undefined;
    if (!type) throw new NotFoundException(`no dashboard asset ${file}`);
    this.send(response, file, type);
  }

  /** Sends a file from the public folder; revalidated on every load (ETag), so an update shows at once. */
  private send(response: Response, file: string, type: string): void {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('Content-Type', type);
    response.sendFile(path.join(DASHBOARD_PUBLIC_DIR, file), (error) => {
      if (!error || response.headersSent) return;
      response.removeHeader('Content-Type');
      response.status(500).json({
        statusCode: 500,
        error: 'Internal Server Error',
        message: `dashboard file ${file} is missing from ${DASHBOARD_PUBLIC_DIR}`,
      });
    });
  }
}
