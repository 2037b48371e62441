import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';

/** The operator's dashboard: a plain HTML/CSS/JS page over the service's own API (POST /spawn, GET /spawns, GET /events, /health). */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
