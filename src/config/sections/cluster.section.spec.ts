import { ConfigError, parseAppConfig } from '../app-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseAppConfig(env, {}, 'node-a');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseAppConfig: fleet peers', () => {
  it('defaults: no peers, DNS port is PORT, refreshed every 15 s, no cluster key', () => {
    const config = parseAppConfig({ PORT: '12000' }, {}, 'node-a');
    expect(config.peers).toEqual([]);
    expect(config.peersDns).toBeUndefined();
    expect(config.peersPort).toBe(12000);
    expect(config.peersRefreshS).toBe(15);
    expect(config.clusterKey).toBeUndefined();
  });

  it('SC_PEERS as origins (trailing slash dropped), SC_PEERS_DNS, SC_PEERS_PORT, SC_PEERS_REFRESH_S, CLUSTER_KEY', () => {
    const config = parseAppConfig(
      { SC_PEERS: 'http://10.0.0.2:11182/, https://node-c.example.com', CLUSTER_KEY: 'k'.repeat(20) },
      {},
      'node-a',
    );
    expect(config.peers).toEqual(['http://10.0.0.2:11182', 'https://node-c.example.com']);
    expect(config.clusterKey).toBe('k'.repeat(20));
    const dns = parseAppConfig({ SC_PEERS_DNS: 'sc-spawner-nodes', SC_PEERS_PORT: '8080', SC_PEERS_REFRESH_S: '2.5' });
    expect(dns.peersDns).toBe('sc-spawner-nodes');
    expect(dns.peersPort).toBe(8080);
    expect(dns.peersRefreshS).toBe(2.5);
  });

  it.each([
    '10.0.0.2:11182',
    'ftp://node-b',
    'http://node-b/sc',
    'http://node-b?x=1',
    'http://u:p@node-b',
    'http://:p@node-b',
  ])('SC_PEERS=%j is refused with the expected form', (peer) => {
    expect(problemsOf({ SC_PEERS: peer })).toEqual([
      `SC_PEERS must be comma-separated base URLs of the other nodes (http:// or https://, no path, query or credentials, e.g. http://10.0.0.2:11182), got ${JSON.stringify(peer)}`,
    ]);
  });

  it('refuses both peer sources, a bad DNS name, a bad port or refresh, a short cluster key', () => {
    expect(problemsOf({ SC_PEERS: 'http://node-b:1', SC_PEERS_DNS: 'nodes' })).toEqual([
      'SC_PEERS and SC_PEERS_DNS are both set: set only one',
    ]);
    expect(problemsOf({ SC_PEERS_DNS: 'http://nodes' })).toEqual([
      `SC_PEERS_DNS must be a DNS name (letters, digits, '.' and '-', e.g. sc-spawner-nodes.default.svc.cluster.local), got "http://nodes"`,
    ]);
    expect(problemsOf({ SC_PEERS_PORT: '70000' })).toEqual([
      'SC_PEERS_PORT must be a whole number from 1 to 65535, got "70000"',
    ]);
    expect(problemsOf({ SC_PEERS_REFRESH_S: '0' })).toEqual([
      'SC_PEERS_REFRESH_S must be a number of seconds at least 0.1 (fractions allowed), got "0"',
    ]);
    expect(problemsOf({ CLUSTER_KEY: 'short' })).toEqual([
      'CLUSTER_KEY needs at least 16 characters, printable ASCII and no spaces (it is 5 characters long)',
    ]);
    expect(problemsOf({ CLUSTER_KEY: 'clé-0123456789abcdef' })).toEqual([
      'CLUSTER_KEY needs at least 16 characters, printable ASCII and no spaces (it is 20 characters long)',
    ]);
  });
});
