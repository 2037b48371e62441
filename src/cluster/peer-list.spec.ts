import { addressUrl, peerSource, peerUrls } from './peer-list';

describe('peer list', () => {
  it('no peers configured: none (the fleet is this node alone)', () => {
    expect(peerUrls(peerSource({ peers: [], peersPort: 11182 }))).toEqual([]);
  });

  it('SC_PEERS: the URLs given, each once', () => {
    const source = peerSource({ peers: ['http://b:1', 'http://c:1', 'http://b:1'], peersPort: 11182 });
    expect(peerUrls(source)).toEqual(['http://b:1', 'http://c:1']);
  });

  it('SC_PEERS_DNS: one URL per address on SC_PEERS_PORT, sorted and deduplicated, IPv6 in brackets', () => {
    const source = peerSource({ peers: [], peersDns: 'sc-spawner-nodes', peersPort: 11182 });
    expect(source).toEqual({ kind: 'dns', name: 'sc-spawner-nodes', port: 11182 });
    expect(peerUrls(source, ['127.0.0.3', '127.0.0.1', 'fd00::2', '127.0.0.1'])).toEqual([
      'http://127.0.0.1:11182',
      'http://127.0.0.3:11182',
      'http://[fd00::2]:11182',
    ]);
    expect(peerUrls(source)).toEqual([]);
  });

  it('addressUrl keeps host names as they are', () => {
    expect(addressUrl('node-b.local', 80)).toBe('http://node-b.local:80');
  });
});
