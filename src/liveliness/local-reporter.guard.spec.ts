import { ExecutionContext, ForbiddenException } from '@nestjs/common';
import { isLocalConnection, LocalReporterGuard } from './local-reporter.guard';

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

describe('LocalReporterGuard', () => {
  const contextFor = (remoteAddress: string, localAddress: string, headers: Record<string, string> = {}) =>
    ({
      switchToHttp: () => ({ getRequest: () => ({ socket: { remoteAddress, localAddress }, headers }) }),
    }) as unknown as ExecutionContext;
  const guard = new LocalReporterGuard();

  it('lets a report from this machine through', () => {
    expect(guard.canActivate(contextFor('127.0.0.1', '127.0.0.1'))).toBe(true);
  });

  it('refuses a report from another machine with 403', () => {
    expect(() => guard.canActivate(contextFor('10.9.9.9', '10.0.0.1'))).toThrow(ForbiddenException);
  });

  it.each<Record<string, string>>([{ 'x-forwarded-for': '203.0.113.5' }, { forwarded: 'for=203.0.113.5' }])(
    'refuses a report relayed by a local reverse proxy (%o)',
    (headers) => {
      expect(() => guard.canActivate(contextFor('127.0.0.1', '127.0.0.1', headers))).toThrow(
        'liveliness reports are accepted only from servers on this machine',
      );
    },
  );
});
