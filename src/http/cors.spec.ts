import { isOwnHostName, ownHostNames } from './cors';

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
