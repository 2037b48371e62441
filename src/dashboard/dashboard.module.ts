import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { StatesController } from './states.controller';

/** The operator's dashboard: a plain HTML/CSS/JS page over the service's own API (POST /spawn, GET /spawns, GET /events, /health, /api/states). */
@Module({ controllers: [DashboardController, StatesController] })
export class DashboardModule {}
