import { LogRedactor } from './log-redactor';

describe('LogRedactor', () => {
  const redactor = new LogRedactor([]);

  it.each([
    ['/events?access_token=SECRET', '/events?access_token=***'],
    ['/events?ACCESS_TOKEN=SECRET&x=1', '/events?ACCESS_TOKEN=***&x=1'],
    ['/events?x=1&access%5Ftoken=SECRET', '/events?x=1&access%5Ftoken=***'],
    ['/events?access%5ftoken=SECRET', '/events?access%5ftoken=***'],
    ['/events?%61ccess_token=SECRET', '/events?%61ccess_token=***'],
    ['/events?access%255Ftoken=SECRET', '/events?access%255Ftoken=***'],
    ['/n/a/?renderingLocation=csr&ticket=T0K3N', '/n/a/?renderingLocation=csr&ticket=***'],
    ['GET /spawns/events?Access_Token=SECRET 200', 'GET /spawns/events?Access_Token=*** 200'],
    ['access_token=SECRET', 'access_token=***'],
  ])('masks %s', (input, masked) => {
    expect(redactor.text(input)).toBe(masked);
    expect(redactor.text(input)).not.toContain('SECRET');
  });

  it('leaves other parameters and malformed encodings alone', () => {
    expect(redactor.text('/spawns?token_access=a&accesstoken=b&bad%E0=c')).toBe(
      '/spawns?token_access=a&accesstoken=b&bad%E0=c',
    );
  });
});
