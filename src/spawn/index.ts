/** The spawn API: POST /spawn and the session routes, their bodies, views and validators. */
export { SpawnModule } from './spawn.module';
export { CreateSpawnDto } from './dto/create-spawn.dto';
export { SpawnLinksDto, SpawnViewDto } from './dto/spawn-view.dto';
export { IsModelName, MODEL_NAME_RULE } from './model-name.validator';
export { lifetimeAboveNodeLimit } from './session-lifetime';
export { IsSessionToken } from './session-token.validator';
export { SpawnPresenter } from './spawn-presenter';
