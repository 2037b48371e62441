/** Shared by the benchmarks: percentiles, the table's row type, and plain HTTP without connection reuse. */
import * as http from 'http';

/** Nearest-rank percentile (the p99 of fewer than 100 samples is the maximum). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** One line of the table: a measurement, its anchor measured side by side, the target and whether it is met. */
export interface BenchRow {
  row: string;
  unit: string;
  n: number | string;
  median: number | string;
  p99: number | string;
  anchor: string;
  anchorMedian?: number | string;
  anchorP99?: number | string;
  /** How the row compares with its anchor (a ratio such as "0.98x" or a difference such as "+0.02 ms"). */
  vsAnchor?: string;
  target: string;
  /** undefined: no target for this row. */
  pass?: boolean;
  note?: string;
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One request on its own connection (no keep-alive), as a browser's first request would be. */
export function httpRequest(
  base: string,
  method: string,
  path: string,
  body?: string,
  extraHeaders: http.OutgoingHttpHeaders = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = {
      ...extraHeaders,
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
    };
    const req = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
export const ratio = (value: number, anchor: number): string => `${(value / anchor).toFixed(2)}x`;
