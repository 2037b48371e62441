import { createServer } from 'net';
import { readUntilClosed } from '../../test/support/ports';
import { NetTcpLineServer } from './tcp-line-server.adapter';

const readLine = readUntilClosed;

describe('NetTcpLineServer (real TCP on 127.0.0.1)', () => {
  it('answers each connection with the line of the moment and closes; close() stops listening', async () => {
    const server = new NetTcpLineServer();
    let line = 'up ready 100%\n';
    const port = await server.listen(0, '127.0.0.1', () => line);
    try {
      expect(await readLine(port)).toBe('up ready 100%\n');
      line = 'drain\n';
      expect(await Promise.all([readLine(port), readLine(port)])).toEqual(['drain\n', 'drain\n']);
    } finally {
      await server.close();
      await server.close(); // idempotent
    }
    await expect(readLine(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a port in use is a clear error naming AGENT_CHECK_PORT', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      await expect(new NetTcpLineServer().listen(port, '127.0.0.1', () => 'x\n')).rejects.toThrow(
        `cannot listen on 127.0.0.1:${port} (AGENT_CHECK_PORT): EADDRINUSE`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
