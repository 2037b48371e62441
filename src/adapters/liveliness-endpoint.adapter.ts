import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'net';
import { LISTENER_SETTINGS, type ListenerSettings } from '../config';

/** Where spawned servers POST their liveliness reports. */
export abstract class LivelinessEndpoint {
  abstract baseUrl(): string;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * The URL of this service's own listener as a local process reaches it: loopback when it listens on every
 * interface, otherwise the very address it is bound to (e.g. ::1, or one interface's IP).
 */
export function livelinessBaseUrl(boundAddress: string, port: number): string {
  const host = WILDCARDS.has(boundAddress) ? '127.0.0.1' : boundAddress;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/liveliness`;
}

/** The service's own HTTP listener, read after listen() so an ephemeral PORT=0 works too. */
@Injectable()
export class HttpLivelinessEndpoint extends LivelinessEndpoint {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(LISTENER_SETTINGS.token) private readonly listener: ListenerSettings,
  ) {
    super();
  }

  baseUrl(): string {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    const address = server?.address();
    if (address && typeof address === 'object') return livelinessBaseUrl(address.address, address.port);
    return livelinessBaseUrl(this.listener.host, this.listener.port);
  }
}
