import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { FetchPeerClient, PEER_ANSWER_MAX_BYTES } from './peer-client.adapter';

/** A peer on loopback answering each path with `answer`. */
async function peer(
  answer: (path: string, response: ServerResponse, request: IncomingMessage) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => answer(request.url ?? '', response, request));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A JSON list of about `bytes`, written at once in 64 KiB chunks (no Content-Length). */
function writeLargeList(response: ServerResponse, bytes: number): void {
  response.writeHead(200, { 'content-type': 'application/json' });
  const item = JSON.stringify({ id: 'x'.repeat(1000) });
  response.write('[' + item);
  for (let written = item.length; written < bytes; written += 64 * 1024) {
    response.write(`,${item}`.repeat(Math.ceil((64 * 1024) / (item.length + 1))));
  }
  response.end(']');
}

describe('FetchPeerClient', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('reads a JSON answer, sending the key', async () => {
    let seen: string | undefined;
    const { url, server } = await peer((_path, response, request) => {
      seen = request.headers.authorization;
      response.end(JSON.stringify({ ok: true }));
    });
    servers.push(server);
    expect(await new FetchPeerClient().getJson(url, '/cluster/self', 'key-0123456789abcdef', 1000)).toEqual({
      ok: true,
    });
    expect(seen).toBe('Bearer key-0123456789abcdef');
  });

  it(`stops reading an answer above ${PEER_ANSWER_MAX_BYTES} bytes, streamed or announced, and says so`, async () => {
    const { url, server } = await peer((path, response) => {
      if (path === '/streamed') return writeLargeList(response, 2 * PEER_ANSWER_MAX_BYTES);
      response.writeHead(200, { 'content-length': String(PEER_ANSWER_MAX_BYTES + 1) });
      response.end('x'.repeat(PEER_ANSWER_MAX_BYTES + 1));
    });
    servers.push(server);
    const client = new FetchPeerClient();
    for (const path of ['/streamed', '/announced']) {
      await expect(client.getJson(url, path, undefined, 5000)).rejects.toThrow(
        `answered more than ${PEER_ANSWER_MAX_BYTES} bytes`,
      );
    }
  });

  it('a status other than 200 and a body that is not JSON are errors', async () => {
    const { url, server } = await peer((path, response) => {
      if (path === '/denied') response.writeHead(401, 'Unauthorized');
      response.end('not json');
    });
    servers.push(server);
    const client = new FetchPeerClient();
    await expect(client.getJson(url, '/denied', undefined, 1000)).rejects.toThrow('answered 401 Unauthorized');
    await expect(client.getJson(url, '/spawns', undefined, 1000)).rejects.toThrow(
      'answered something that is not JSON',
    );
  });

  it("cuts a peer's status text at 300 characters (it is shown in every fleet answer)", async () => {
    const { url, server } = await peer((_path, response) => {
      response.writeHead(500, `<img src=x onerror=alert(1)>${'A'.repeat(60_000)}`);
      response.end();
    });
    servers.push(server);
    const error = await new FetchPeerClient().getJson(url, '/cluster/self', undefined, 1000).catch((e: Error) => e);
    expect((error as Error).message).toBe(`answered 500 <img src=x onerror=alert(1)>${'A'.repeat(272)}`);
  });
});
