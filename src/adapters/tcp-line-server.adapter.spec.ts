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

  it('holds the port on [::1] too, answering there the same way, and lets it go on close()', async () => {
    const server = new NetTcpLineServer();
    const port = await server.listen(0, '127.0.0.1', () => 'up ready 100%\n');
    try {
      expect(await readLine(port, '::1')).toBe('up ready 100%\n');
    } finally {
      await server.close();
    }
    await expect(readLine(port, '::1')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a fixed port whose [::1] twin another program holds is a clear error naming AGENT_CHECK_PORT', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen({ port: 0, host: '::1', ipv6Only: true }, resolve));
    const { port } = holder.address() as { port: number };
    const server = new NetTcpLineServer();
    try {
      await expect(server.listen(port, '127.0.0.1', () => 'x\n')).rejects.toThrow(
        `port ${port} on [::1] is already in use by another program (AGENT_CHECK_PORT)`,
      );
      await expect(readLine(port)).rejects.toThrow(/ECONNREFUSED/); // nothing is left listening on 127.0.0.1
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
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
