import { parseAppConfig } from './app-config';
import { ConfigError } from './app-config.model';
import { isLoopbackHost } from './edge-settings';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseAppConfig(env, {}, 'host');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('parsed without a problem');
}

describe('edge settings', () => {
  it('defaults: no proxy trusted, 30 s tickets, first message within the initial-use duration, 10/30 s HTTP timeouts, 256 connections', () => {
    const config = parseAppConfig({ SC_INITIAL_USE_DURATION_S: '45' }, {}, 'host');
    expect(config).toMatchObject({
      trustProxy: false,
      ticketTtlS: 30,
      firstMessageTimeoutS: 45,
      headersTimeoutS: 10,
      requestTimeoutS: 30,
      maxConnectionsPerClient: 256,
    });
  });

  it.each([
    ['false', false],
    ['off', false],
    ['true', true],
    ['YES', true],
    ['loopback', 'loopback'],
    ['10.0.0.5', ['10.0.0.5']],
    [
      ' 10.0.0.5 , 192.168.1.0/24,::1, fd00::/8 ,loopback',
      ['10.0.0.5', '192.168.1.0/24', '::1', 'fd00::/8', 'loopback'],
    ],
  ])('TRUST_PROXY=%s', (value, expected) => {
    expect(parseAppConfig({ TRUST_PROXY: value }, {}, 'host').trustProxy).toEqual(expected);
  });

  it.each(['maybe', '10.0.0.300', '10.0.0.0/33', 'fd00::/129', '10.0.0.1/8/2', 'proxy.example.com', '10.0.0.1,,nope'])(
    'TRUST_PROXY=%s is refused with one line naming the setting and the forms it takes',
    (value) => {
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([
        expect.stringMatching(
          /^TRUST_PROXY must be false, true, loopback, or a comma-separated list of addresses and CIDRs/,
        ),
      ]);
    },
  );

  it.each(['0.0.0.0/0', '10.1.2.3/0', '::/0', '10.0.0.0/8,::/00'])(
    'TRUST_PROXY=%s (every address) is refused at start-up, pointing to TRUST_PROXY=true, not left to crash Express',
    (value) => {
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([
        expect.stringMatching(
          /^TRUST_PROXY entry "[^"]+\/0+" is every address: set TRUST_PROXY=true to trust every peer/,
        ),
      ]);
    },
  );

  it('the timeouts, ticket lifetime and connection cap are read and checked', () => {
    const config = parseAppConfig(
      {
        SC_TICKET_TTL_S: '5',
        SC_FIRST_MESSAGE_TIMEOUT_S: '2.5',
        HEADERS_TIMEOUT_S: '3',
        REQUEST_TIMEOUT_S: '4',
        MAX_CONNECTIONS_PER_CLIENT: '8',
      },
      {},
      'host',
    );
    expect(config).toMatchObject({
      ticketTtlS: 5,
      firstMessageTimeoutS: 2.5,
      headersTimeoutS: 3,
      requestTimeoutS: 4,
      maxConnectionsPerClient: 8,
    });
    expect(
      problemsOf({
        SC_TICKET_TTL_S: '0',
        SC_FIRST_MESSAGE_TIMEOUT_S: 'soon',
        MAX_CONNECTIONS_PER_CLIENT: '0',
      }),
    ).toEqual([
      'SC_TICKET_TTL_S must be a number of seconds greater than 0 (fractions allowed), got "0"',
      'SC_FIRST_MESSAGE_TIMEOUT_S must be a number of seconds greater than 0 (fractions allowed), got "soon"',
      'MAX_CONNECTIONS_PER_CLIENT must be a whole number from 1 to 1000000, got "0"',
    ]);
    expect(problemsOf({ HEADERS_TIMEOUT_S: '20', REQUEST_TIMEOUT_S: '10' })).toEqual([
      'REQUEST_TIMEOUT_S (10) must not be shorter than HEADERS_TIMEOUT_S (20)',
    ]);
  });

  it('isLoopbackHost', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) expect(isLoopbackHost(host)).toBe(false);
  });
});
