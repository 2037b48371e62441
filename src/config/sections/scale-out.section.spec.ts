import { ConfigError, parseAppConfig } from '../app-config';

function problemsOf(env: Record<string, string>, hostName?: string): string[] {
  try {
    parseAppConfig(env, {}, hostName);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseAppConfig: scale-out settings', () => {
  it('defaults: node named after the lower-cased host, no public base URL, no agent port, no drain', () => {
    const config = parseAppConfig({}, {}, 'Node-7');
    expect(config.nodeName).toBe('node-7');
    expect(config.publicBaseUrl).toBeUndefined();
    expect(config.agentCheckPort).toBeUndefined();
    expect(config.drainTimeoutS).toBe(0);
  });

  it('NODE_NAME, PUBLIC_BASE_URL (trailing slash dropped, path kept), AGENT_CHECK_PORT, DRAIN_TIMEOUT_S', () => {
    const config = parseAppConfig({
      NODE_NAME: 'node-a',
      PUBLIC_BASE_URL: 'https://viewers.example.com/sc/',
      AGENT_CHECK_PORT: '11183',
      DRAIN_TIMEOUT_S: '600',
    });
    expect(config.nodeName).toBe('node-a');
    expect(config.publicBaseUrl).toBe('https://viewers.example.com/sc');
    expect(config.agentCheckPort).toBe(11183);
    expect(config.drainTimeoutS).toBe(600);
    expect(parseAppConfig({ DRAIN_TIMEOUT_S: '0' }).drainTimeoutS).toBe(0);
    expect(parseAppConfig({ DRAIN_TIMEOUT_S: '0.5' }).drainTimeoutS).toBe(0.5);
    expect(parseAppConfig({ PUBLIC_BASE_URL: 'http://lb:8080' }).publicBaseUrl).toBe('http://lb:8080');
  });

  it.each(['Node-A', 'node_a', 'node.example.com', 'a'.repeat(64), 'nœud'])('NODE_NAME=%j is refused', (name) => {
    expect(problemsOf({ NODE_NAME: name })).toEqual([
      `NODE_NAME must be 1 to 63 lower-case letters, digits or '-' ([a-z0-9-]{1,63}), got ${JSON.stringify(name)}`,
    ]);
  });

  it('a host name that is no valid node name asks for NODE_NAME', () => {
    expect(problemsOf({}, 'web1.example.com')).toEqual([
      'NODE_NAME is not set and the host name "web1.example.com" is not a valid node name ([a-z0-9-]{1,63}): set NODE_NAME',
    ]);
    expect(parseAppConfig({ NODE_NAME: 'web1' }, {}, 'web1.example.com').nodeName).toBe('web1');
  });

  it.each(['viewers.example.com', 'ftp://viewers.example.com', 'https://lb/?a=1', 'https://lb/#x', 'https://u:p@lb'])(
    'PUBLIC_BASE_URL=%j is refused',
    (raw) => {
      const [problem] = problemsOf({ PUBLIC_BASE_URL: raw });
      expect(problem).toMatch(/^PUBLIC_BASE_URL must be an http:\/\/ or https:\/\/ URL without query/);
      expect(problem).toContain(JSON.stringify(raw));
    },
  );

  it('AGENT_CHECK_PORT: a port, not PORT, not inside the WebSocket range', () => {
    expect(problemsOf({ AGENT_CHECK_PORT: '0' })[0]).toMatch(
      /^AGENT_CHECK_PORT must be a whole number from 1 to 65535/,
    );
    expect(problemsOf({ PORT: '9000', AGENT_CHECK_PORT: '9000' })).toEqual([
      'AGENT_CHECK_PORT must differ from PORT (both 9000)',
    ]);
    expect(problemsOf({ SC_PORT_BASE: '30000', AGENT_CHECK_PORT: '30001' })[0]).toMatch(
      /^AGENT_CHECK_PORT 30001 lies inside the WebSocket port range/,
    );
  });

  it('DRAIN_TIMEOUT_S must be a number of seconds', () => {
    expect(problemsOf({ DRAIN_TIMEOUT_S: '-1' })[0]).toMatch(/^DRAIN_TIMEOUT_S must be a number of seconds/);
    expect(problemsOf({ DRAIN_TIMEOUT_S: 'soon' })[0]).toMatch(/^DRAIN_TIMEOUT_S must be a number of seconds/);
  });
});
