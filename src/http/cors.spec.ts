import { isOwnHostName, isOwnPageOrigin, ownHostNames, ownHostNamesOf } from './cors';

describe('own host names (the same-origin exception of CORS_ORIGINS)', () => {
  const given = ownHostNames('Viewer.Example.com', ['https://lb.example.com:8443/sc', 'https://[::1]:3000', undefined]);

  it('are IP addresses, localhost, and the names the service was given', () => {
    expect([...given].sort()).toEqual(['::1', 'lb.example.com', 'viewer.example.com']);
    for (const name of [
      '127.0.0.1',
      '10.1.2.3',
      '[::1]',
      '[2001:db8::5]',
      'localhost',
      'LB.example.com',
      'viewer.example.com',
    ])
      expect({ name, own: isOwnHostName(name, given) }).toEqual({ name, own: true });
  });

  it('are not any other name, which DNS rebinding may make resolve here', () => {
    for (const name of ['evil.example', 'localhost.evil.example', '127.0.0.1.evil.example', 'viewer.example.com.evil'])
      expect({ name, own: isOwnHostName(name, given) }).toEqual({ name, own: false });
  });
});

describe("the service's own page (the same-origin exception, on HTTP routes and WebSocket upgrades)", () => {
  const given = ownHostNamesOf({ corsOrigins: ['https://app.example.com'], publicHostname: undefined }, undefined);

  it('is the origin of the Host the request was sent to, under an own name', () => {
    expect(isOwnPageOrigin('http://127.0.0.1:11182', '127.0.0.1:11182', given)).toBe(true);
    expect(isOwnPageOrigin('http://localhost:11182', 'localhost:11182', given)).toBe(true);
    expect(isOwnPageOrigin('http://app.example.com:11182', 'app.example.com:11182', given)).toBe(true);
  });

  it('is not another host, a name DNS rebinding may give, nor an origin that is not a URL', () => {
    expect(isOwnPageOrigin('http://127.0.0.1:8080', '127.0.0.1:11182', given)).toBe(false);
    expect(isOwnPageOrigin('http://evil.example:11182', 'evil.example:11182', given)).toBe(false);
    expect(isOwnPageOrigin('null', '127.0.0.1:11182', given)).toBe(false);
    expect(isOwnPageOrigin('http://127.0.0.1:11182', undefined, given)).toBe(false);
  });
});
