import { Injectable } from '@nestjs/common';

/** Reads another node's API: one GET with a key and a time limit. */
export abstract class PeerClient {
  /** The parsed JSON body of `GET <baseUrl><path>`; rejects on a network error, a timeout or a status other than 200. */
  abstract getJson(baseUrl: string, path: string, key: string | undefined, timeoutMs: number): Promise<unknown>;
}

/** A peer's answer is read up to this size; a larger one is cut off and the peer reported as failed. */
export const PEER_ANSWER_MAX_BYTES = 1 << 20;

/**
 * PeerClient over fetch, with the answer's size capped: the body is streamed and dropped past
 * PEER_ANSWER_MAX_BYTES, so a peer cannot make this node hold its whole answer (each peer is read on every
 * refresh of every dashboard). The time limit covers the body too (the signal aborts a body that stalls).
 */
@Injectable()
export class FetchPeerClient extends PeerClient {
  constructor(private readonly maxBytes = PEER_ANSWER_MAX_BYTES) {
    super();
  }

  async getJson(baseUrl: string, path: string, key: string | undefined, timeoutMs: number): Promise<unknown> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    let text: string;
    try {
      const signal = AbortSignal.timeout(timeoutMs);
      const response = await fetch(`${baseUrl}${path}`, { headers, signal, redirect: 'error' });
      if (response.status !== 200) {
        await response.body?.cancel();
        // Its status text is the peer's to choose: cut as the rest of what it says is (300 characters).
        throw new Error(`answered ${response.status} ${response.statusText.slice(0, 300)}`.trim());
      }
      text = await this.readCapped(response);
    } catch (error) {
      throw new Error(describe(error, timeoutMs), { cause: error });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`answered something that is not JSON (GET ${path})`);
    }
  }

  private async readCapped(response: Response): Promise<string> {
    const tooLarge = `answered more than ${this.maxBytes} bytes (the limit for a peer's answer)`;
    if (Number(response.headers.get('content-length') ?? 0) > this.maxBytes) {
      await response.body?.cancel();
      throw new Error(tooLarge);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (!response.body) return '';
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBytes) {
        await reader.cancel();
        throw new Error(tooLarge);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  if (err.cause?.code) return `${err.cause.code}${err.cause.message ? `: ${err.cause.message}` : ''}`;
  return err.message;
}
