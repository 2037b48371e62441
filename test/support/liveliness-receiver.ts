import { createServer, type IncomingMessage, type ServerResponse } from 'http';
import { defaultCleanup, type Cleanup } from './processes';
import { waitFor } from './wait';

/** One liveliness POST as received. */
export interface LivelinessReport {
  /** The Stream Cache Server id: the decoded last path segment. */
  id: string;
  /** The `liveliness` query value as sent (`ready`, `ping`, `disconnect`, or whatever else arrived). */
  value: string;
  /** When it arrived (Date.now()). */
  at: number;
  /** The request path and query, as sent. */
  url: string;
  /** Bytes of request body (the protocol says empty). */
  bodyLength: number;
}

/** How the receiver answers; change it at any time to simulate a failing or hung endpoint. */
export interface ReceiverBehaviour {
  /** HTTP status to answer with (default 200). */
  status: number;
  /** Delay before answering, in ms (default 0). */
  delayMs: number;
  /** Never answer (until close()). */
  hang: boolean;
}

export interface LivelinessReceiver {
  /** Base URL to pass as --liveliness-endpoint, e.g. http://127.0.0.1:41234/liveliness */
  readonly url: string;
  readonly port: number;
  /** Every POST received, in order of arrival. */
  readonly reports: LivelinessReport[];
  readonly behaviour: ReceiverBehaviour;
  reportsFor(id: string): LivelinessReport[];
  /** The values received for id, in order, e.g. ['ready', 'ping', 'disconnect']. */
  valuesFor(id: string): string[];
  /** Resolves with predicate's first truthy result over the reports so far (polled); rejects after timeoutMs. */
  waitFor<T>(predicate: (reports: LivelinessReport[]) => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** Resolves with the count-th (default first) report of `value` for id. */
  waitForReport(id: string, value: string, timeoutMs?: number, count?: number): Promise<LivelinessReport>;
  close(): Promise<void>;
}

export interface LivelinessReceiverOptions {
  /** Path of the base URL (default '/liveliness'); reports arrive at `<basePath>/<id>?liveliness=<value>`. */
  basePath?: string;
  cleanup?: Cleanup;
}

/**
 * A real HTTP liveliness endpoint on 127.0.0.1 (port chosen by the system) that records every POST.
 * Closed at cleanup (or by close()); open connections are dropped so nothing outlives the test.
 */
export async function startLivelinessReceiver(options: LivelinessReceiverOptions = {}): Promise<LivelinessReceiver> {
  const basePath = (options.basePath ?? '/liveliness').replace(/\/+$/, '');
  const reports: LivelinessReport[] = [];
  const behaviour: ReceiverBehaviour = { status: 200, delayMs: 0, hang: false };
  const pendingTimers = new Set<NodeJS.Timeout>();

  const answer = (res: ServerResponse, status: number): void => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(status < 300 ? 'ok\n' : `status ${status}\n`);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let bodyLength = 0;
    req.on('data', (chunk: Buffer) => (bodyLength += chunk.length));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      if (req.method !== 'POST' || !url.pathname.startsWith(`${basePath}/`)) return answer(res, 404);
      const idPart = url.pathname.slice(basePath.length + 1);
      reports.push({
        id: safeDecode(idPart),
        value: url.searchParams.get('liveliness') ?? '',
        at: Date.now(),
        url: req.url ?? '',
        bodyLength,
      });
      if (behaviour.hang) return; // dropped by close()
      if (behaviour.delayMs > 0) {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          answer(res, behaviour.status);
        }, behaviour.delayMs);
        pendingTimers.add(timer);
      } else {
        answer(res, behaviour.status);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  (options.cleanup ?? defaultCleanup).add(close, `liveliness receiver on port ${port}`);

  const reportsFor = (id: string): LivelinessReport[] => reports.filter((report) => report.id === id);
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    port,
    reports,
    behaviour,
    reportsFor,
    valuesFor: (id) => reportsFor(id).map((report) => report.value),
    waitFor: (predicate, timeoutMs = 5000) =>
      waitFor(() => predicate(reports), timeoutMs, { description: 'liveliness reports' }),
    waitForReport: (id, value, timeoutMs = 5000, count = 1) =>
      waitFor(() => reportsFor(id).filter((report) => report.value === value)[count - 1], timeoutMs, {
        description: () =>
          `liveliness ${value} #${count} from ${id} (got: ${
            reportsFor(id)
              .map((r) => r.value)
              .join(', ') || 'nothing'
          })`,
      }),
    close,
  };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
