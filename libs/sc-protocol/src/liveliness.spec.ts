import {
  DEFAULT_INITIAL_USE_DURATION_S,
  DEFAULT_LIVELINESS_UPDATE_FREQUENCY_S,
  LIVELINESS_QUERY_PARAM,
  LIVELINESS_VALUES,
  isLiveliness,
  livelinessUrl,
} from './liveliness';

describe('livelinessUrl', () => {
  it('appends the id and the liveliness value', () => {
    expect(livelinessUrl('http://127.0.0.1:11182/api/spawns', 'abc', 'ready')).toBe(
      'http://127.0.0.1:11182/api/spawns/abc?liveliness=ready',
    );
  });

  it('does not double the slash when the base ends with one or more', () => {
    expect(livelinessUrl('http://h:1/api/spawns/', 'abc', 'ping')).toBe('http://h:1/api/spawns/abc?liveliness=ping');
    expect(livelinessUrl('http://h:1/api/spawns//', 'abc', 'ping')).toBe('http://h:1/api/spawns/abc?liveliness=ping');
    expect(livelinessUrl('http://h:1/', 'abc', 'disconnect')).toBe('http://h:1/abc?liveliness=disconnect');
    expect(livelinessUrl('http://h:1', 'abc', 'disconnect')).toBe('http://h:1/abc?liveliness=disconnect');
  });

  it('encodes the id as one path segment', () => {
    expect(livelinessUrl('http://h/b', 'a/b c?d#e&f', 'ready')).toBe(
      'http://h/b/a%2Fb%20c%3Fd%23e%26f?liveliness=ready',
    );
    const url = new URL(livelinessUrl('http://h/b', 'a/b c?d#e&f', 'ready'));
    expect(decodeURIComponent(url.pathname.split('/').pop()!)).toBe('a/b c?d#e&f');
    expect(url.searchParams.get('liveliness')).toBe('ready');
  });

  it('leaves a UUID as it is', () => {
    const id = '3f2c1e9a-8b7d-4c6e-9f10-123456789abc';
    expect(livelinessUrl('http://h', id, 'ping')).toBe(`http://h/${id}?liveliness=ping`);
  });

  it.each(LIVELINESS_VALUES)('builds a URL for %s', (value) => {
    expect(new URL(livelinessUrl('http://h:2/x', 'i', value)).searchParams.get(LIVELINESS_QUERY_PARAM)).toBe(value);
  });
});

describe('isLiveliness', () => {
  it('accepts the three protocol values only', () => {
    expect(LIVELINESS_VALUES).toEqual(['ready', 'ping', 'disconnect']);
    for (const value of LIVELINESS_VALUES) expect(isLiveliness(value)).toBe(true);
    for (const value of ['READY', 'pong', '', ' ping', undefined, null, 1, {}]) expect(isLiveliness(value)).toBe(false);
  });
});

describe('defaults', () => {
  it('match the shipping server', () => {
    expect(DEFAULT_LIVELINESS_UPDATE_FREQUENCY_S).toBe(5);
    expect(DEFAULT_INITIAL_USE_DURATION_S).toBe(60);
  });
});
