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
    ['GET /ws/SECRET 404', 'GET /ws/*** 404'],
    ['/n/node-a/ws/SECRET?renderingLocation=csr', '/n/node-a/ws/***?renderingLocation=csr'],
    ['http://viewer.example/WS/SECRET', 'http://viewer.example/WS/***'],
    ['relay link ws://h:1/ws/SECRET#x', 'relay link ws://h:1/ws/***#x'],
  ])('masks %s', (input, masked) => {
    expect(redactor.text(input)).toBe(masked);
    expect(redactor.text(input)).not.toContain('SECRET');
  });

  it('leaves other parameters and malformed encodings alone', () => {
    expect(redactor.text('/spawns?token_access=a&accesstoken=b&bad%E0=c')).toBe(
      '/spawns?token_access=a&accesstoken=b&bad%E0=c',
    );
    expect(redactor.text('/news/x /ws /ws/ /spawns/ws')).toBe('/news/x /ws /ws/ /spawns/ws');
  });
});

describe('LogRedactor: control characters a client sends', () => {
  const redactor = new LogRedactor([]);

  it('escapes C0 (but tab and newline), DEL and C1: a header may carry U+009B (CSI) or U+0085 (NEL) as obs-text', () => {
    expect(redactor.text('a\u009b2J\u0085{"level":"error"}\u001b[31m\r\u007fb')).toBe(
      'a\\x9b2J\\x85{"level":"error"}\\x1b[31m\\x0d\\x7fb',
    );
    expect(redactor.text('effective settings:\n\tPORT 8080')).toBe('effective settings:\n\tPORT 8080');
    expect(redactor.text('café ü — ✓')).toBe('café ü — ✓');
  });

  it('masks and escapes a header, and leaves one not sent undefined', () => {
    expect(redactor.field('curl\u009b31m access_token=SECRET')).toBe('curl\\x9b31m access_token=***');
    expect(redactor.field(undefined)).toBeUndefined();
  });
});
