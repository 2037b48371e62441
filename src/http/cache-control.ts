import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * Every answer is `Cache-Control: no-store` unless its route says otherwise (the dashboard's files: no-cache). The
 * answers carry relay tokens (a session's capability), tickets and servers' output: without it a browser kept the
 * GET /spawns it fetched with the key in its disk cache, tokens and all, after the tab was closed; a cache in front
 * set to keep answers would keep them too.
 */
export function storeNoAnswers(app: INestApplication): void {
  app.use((_request: Request, response: Response, next: NextFunction) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  });
}
