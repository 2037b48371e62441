import { ConflictException, ForbiddenException, GatewayTimeoutException, BadGatewayException, HttpException, Injectable, Logger } from '@nestjs/common';
import { RendererType } from '@app/sc-protocol';
import { RetryableHttpException } from '../common/http-error';
import { AppConfig } from '../config/app-config';
import { PortAllocator } from '../ports/port-allocator.service';
import { SpawnRecord } from '../supervisor/spawn-record';
import { NoCapacityError, SpawnNotReadyError } from '../supervisor/supervisor.errors';
import { SpawnRequest, SupervisorService } from '../supervisor/supervisor.service';
import { SC_EXIT_CODES } from '@app/sc-protocol';

/** Seconds a client is told to wait before retrying when no slot or port is free. */
export const RETRY_AFTER_AT_CAPACITY_S = 5;
export const RETRY_AFTER_SHUTTING_DOWN_S = 30;

/** Starts a spawn and waits for it to be ready, turning every way that can fail into an HTTP error. */
@Injectable()
export class SpawnService {
  private readonly logger = new Logger(SpawnService.name);

  constructor(
    private readonly supervisor: SupervisorService,
    private readonly ports: PortAllocator,
    private readonly config: AppConfig,
  ) {}

  assertRendererEnabled(rendererType: RendererType): void {
    const enabled = rendererType === 'ssr' ? this.config.ssrEnabled : this.config.csrEnabled;
    if (!enabled) {
      const variable = rendererType === 'ssr' ? 'SSR_ENABLED' : 'CSR_ENABLED';
      throw new ForbiddenException(`${rendererType.toUpperCase()} rendering is disabled on this server (${variable}=false)`);
    }
  }

  async spawnReady(request: SpawnRequest, signal?: AbortSignal): Promise<SpawnRecord> {
    this.assertRendererEnabled(request.rendererType);
    for (let attempt = 1; ; attempt++) {
      const record = await this.launch(request);
      try {
        return await this.supervisor.waitUntilReady(record.id, signal);
      } catch (error) {
        if (attempt === 1 && (await this.lostPortRace(error))) {
          this.logger.warn(`spawn ${record.id} could not bind port ${record.spec.wsPort}, which another program took; retrying on another port`);
          continue;
        }
        throw this.toHttpError(error);
      }
    }
  }

  private async launch(request: SpawnRequest): Promise<SpawnRecord> {
    try {
      return await this.supervisor.launch(request);
    } catch (error) {
      throw this.toHttpError(error);
    }
  }

  /** The server exited 3 before ready and its port is now held by someone else: the probe lost a race. */
  private async lostPortRace(error: unknown): Promise<boolean> {
    if (!(error instanceof SpawnNotReadyError)) return false;
    const { record } = error;
    if (error.reason !== 'failed' || record.exitCode !== SC_EXIT_CODES.INTERNAL_ERROR) return false;
    return this.ports.confirmBusy(record.spec.wsPort);
  }

  private toHttpError(error: unknown): unknown {
    if (error instanceof HttpException) return error;
    if (error instanceof NoCapacityError) {
      return error.reason === 'shutting_down'
        ? new RetryableHttpException('the service is shutting down; try another server', RETRY_AFTER_SHUTTING_DOWN_S)
        : new RetryableHttpException(error.message, RETRY_AFTER_AT_CAPACITY_S);
    }
    if (error instanceof SpawnNotReadyError) {
      if (this.supervisor.isShuttingDown) {
        return new RetryableHttpException('the service is shutting down; try another server', RETRY_AFTER_SHUTTING_DOWN_S);
      }
      switch (error.reason) {
        case 'failed':
          return new BadGatewayException(error.message);
        case 'timed_out':
          return new GatewayTimeoutException(`${error.message}; it was stopped`);
        case 'stopped':
          return new ConflictException(`the spawn was stopped before it was ready: ${error.message}`);
      }
    }
    return error;
  }
}
