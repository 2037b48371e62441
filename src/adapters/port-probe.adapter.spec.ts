import { createServer, type Server } from 'net';
import { bindErrorMeansHeld, NetPortProbe } from './port-probe.adapter';

/** Inside review D's test range (31800-31899). */
const PORT = 31899;

describe('NetPortProbe', () => {
  it('tells a port another program holds from one that is free', async () => {
    const probe = new NetPortProbe();
    expect(await probe.isFree(PORT)).toBe(true);
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(PORT, resolve));
    try {
      expect(await probe.isFree(PORT)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('takes only a bind refused for the port as held: the service out of sockets tells nothing of it', () => {
    expect(bindErrorMeansHeld('EADDRINUSE')).toBe(true);
    expect(bindErrorMeansHeld('EACCES')).toBe(true);
    for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', undefined]) expect(bindErrorMeansHeld(code)).toBe(false);
  });
});
