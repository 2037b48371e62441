import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo } from 'net';
import { AppConfig } from '../config/app-config';

/** Where spawned servers POST their liveliness reports. */
export abstract class LivelinessEndpoint {
  abstract baseUrl(): string;
}

const LOOPBACK_REACHABLE = new Set(['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost']);

/** The service's own HTTP listener, read after listen() so an ephemeral PORT=0 works too. */
@Injectable()
export class HttpLivelinessEndpoint extends LivelinessEndpoint {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
  ) {
    super();
  }

  baseUrl(): string {
    const address = this.adapterHost.httpAdapter?.getHttpServer()?.address() as AddressInfo | null;
    const port = address?.port ?? this.config.port;
    const host = LOOPBACK_REACHABLE.has(this.config.host) ? '127.0.0.1' : this.config.host;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return `http://${hostPart}:${port}/liveliness`;
  }
}
