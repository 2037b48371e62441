import { MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { SupervisorModule } from '../supervisor';
import { SpawnPresenter } from './spawn-presenter';
import { SpawnShedding } from './spawn-shedding.middleware';
import { SpawnController } from './spawn.controller';

/** The service's own spawn API (POST /spawn, /spawns...) and the presenter every API shares for spawn views. */
@Module({
  imports: [SupervisorModule],
  controllers: [SpawnController],
  providers: [SpawnPresenter, SpawnShedding],
  exports: [SpawnPresenter],
})
export class SpawnModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // After the access log's middleware (LoggingModule comes first in AppModule): a refusal here is logged like any.
    consumer.apply(SpawnShedding).forRoutes({ path: 'spawn', method: RequestMethod.POST });
  }
}
