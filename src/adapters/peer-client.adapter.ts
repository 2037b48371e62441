import { Injectable } from '@nestjs/common';

/** Reads another node's API: one GET with a key and a time limit. */
export abstract class PeerClient {
  /** The parsed JSON body of `GET <baseUrl><path>`; rejects on a network error, a timeout or a status other than 200. */
  abstract getJson(baseUrl: string, path: string, key: string | undefined, timeoutMs: number): Promise<unknown>;
}

@Injectable()
export class FetchPeerClient extends PeerClient {
  async getJson(baseUrl: string, path: string, key: string | undefined, timeoutMs: number): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    let response: Response;
    try {
      // The timeout covers the body too: the signal aborts a body that stalls after the headers.
      const signal = AbortSignal.timeout(timeoutMs);
      response = await fetch(`${baseUrl}${path}`, { headers, signal, redirect: 'error' });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new Error(`answered ${response.status} ${response.statusText}`.trim());
      }
      return await response.json();
    } catch (error) {
      throw new Error(describe(error, timeoutMs), { cause: error });
    }
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (err.cause?.code) return `${err.cause.code}${err.cause.message ? `: ${err.cause.message}` : ''}`;
  return err.message;
}
