import { LISTEN_BACKLOG, somaxconnWarning } from './listen';

describe('accept queue advice', () => {
  it('advises raising net.core.somaxconn below 1024, naming the value to set', () => {
    expect(somaxconnWarning('128\n')).toBe(
      `net.core.somaxconn is 128: the kernel holds at most 128 connections waiting to be accepted, and clients beyond that in a burst retry after 1 s; raise it (sysctl -w net.core.somaxconn=${LISTEN_BACKLOG})`,
    );
  });

  it('says nothing at 1024 or more, or when the file could not be read', () => {
    for (const text of ['1024', '4096\n', '', 'garbage', '0']) expect(somaxconnWarning(text)).toBeUndefined();
  });
});
