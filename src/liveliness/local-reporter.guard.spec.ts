import { isLocalConnection } from './local-reporter.guard';

describe('isLocalConnection', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.5', '0.0.0.0'],
    ['::1', '::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:192.168.1.20', '::ffff:192.168.1.20'],
  ])('accepts %s (local address %s)', (remote, local) => {
    expect(isLocalConnection(remote, local)).toBe(true);
  });

  it.each([
    ['10.1.2.4', '10.1.2.3'],
    ['::ffff:192.168.1.21', '::ffff:192.168.1.20'],
    ['128.0.0.1', '127.0.0.1'],
    ['::2', '::1'],
    [undefined, '127.0.0.1'],
  ])('refuses %s (local address %s)', (remote, local) => {
    expect(isLocalConnection(remote, local)).toBe(false);
  });
});
