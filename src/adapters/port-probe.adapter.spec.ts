import { type AddressInfo, createServer, type Server } from 'net';
import { bindErrorMeansHeld, NetPortProbe } from './port-probe.adapter';

describe('NetPortProbe', () => {
  it('tells a port another program holds from one that is free', async () => {
    const probe = new NetPortProbe();
    const holder: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, () => resolve((holder.address() as AddressInfo).port)),
    );
    try {
      expect(await probe.isFree(port)).toBe(false);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(await probe.isFree(port)).toBe(true);
  });

  it('takes only a bind refused for the port as held: the service out of sockets tells nothing of it', () => {
    expect(bindErrorMeansHeld('EADDRINUSE')).toBe(true);
    expect(bindErrorMeansHeld('EACCES')).toBe(true);
    for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', undefined]) expect(bindErrorMeansHeld(code)).toBe(false);
  });
});
