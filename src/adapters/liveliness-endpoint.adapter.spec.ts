import { createServer, Server } from 'http';
import type { AddressInfo } from 'net';
import { livelinessBaseUrl } from './liveliness-endpoint.adapter';

describe('livelinessBaseUrl', () => {
  it.each([
    ['0.0.0.0', 'http://127.0.0.1:11182/liveliness'],
    ['::', 'http://127.0.0.1:11182/liveliness'],
    ['127.0.0.1', 'http://127.0.0.1:11182/liveliness'],
    ['::1', 'http://[::1]:11182/liveliness'],
    ['10.0.0.7', 'http://10.0.0.7:11182/liveliness'],
    ['fe80::1', 'http://[fe80::1]:11182/liveliness'],
  ])('a listener bound to %s is reached at %s', (address, url) => {
    expect(livelinessBaseUrl(address, 11182)).toBe(url);
  });

  it('the URL built from a real listener bound to ::1 reaches that listener', async () => {
    const server: Server = createServer((req, res) => res.end(req.url));
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    try {
      const { address, port } = server.address() as AddressInfo;
      const response = await fetch(`${livelinessBaseUrl(address, port)}/abc?liveliness=ping`, { method: 'POST' });
      expect(await response.text()).toBe('/liveliness/abc?liveliness=ping');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
