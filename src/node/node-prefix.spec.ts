import { matchNodePrefix, misdirectedReason, originForm } from './node-prefix';

describe('matchNodePrefix', () => {
  it.each([
    ['/n/node-a/spawns/1', '/spawns/1', false],
    ['/n/node-a/spawns/1?x=1&y=/n/', '/spawns/1?x=1&y=/n/', false],
    ['/n/node-a/', '/', false],
    ['/n/node-a', '/', true],
    ['/n/node-a?x=1', '/?x=1', true],
    ['/n/node-a/ws/abc?t=1', '/ws/abc?t=1', false],
    ['/n/node-a/n/node-a/health', '/n/node-a/health', false],
  ])('%s on node-a is %s', (url, rest, bare) => {
    expect(matchNodePrefix(url, 'node-a')).toEqual({ kind: 'local', url: rest, bare });
  });

  it.each(['/spawns/1', '/', '/n', '/n/', '/nodes/node-a/x', '/x/n/node-a/', undefined])(
    '%s is not prefixed',
    (url) => {
      expect(matchNodePrefix(url, 'node-a')).toEqual({ kind: 'none' });
    },
  );

  it.each([
    ['/n/node-b/spawns/1', 'node-b', '/spawns/1'],
    ['/n/node-b', 'node-b', '/'],
    ['/n/Node-A/api/spawn?x', 'Node-A', '/api/spawn'],
    ['/n/node-aa/health', 'node-aa', '/health'],
  ])('%s on node-a is for another node', (url, node, path) => {
    expect(matchNodePrefix(url, 'node-a')).toEqual({ kind: 'other', node, path });
  });

  it('reads an absolute-form target by its path, as the router does', () => {
    expect(matchNodePrefix(originForm('http://h:1/n/node-a/api/states?x'), 'node-a')).toEqual({
      kind: 'local',
      url: '/api/states?x',
      bare: false,
    });
    expect(matchNodePrefix(originForm('http://h/n/node-b/health'), 'node-a')).toEqual({
      kind: 'other',
      node: 'node-b',
      path: '/health',
    });
  });

  it('the 421 reason names both nodes', () => {
    expect(misdirectedReason('node-a', 'node-b')).toBe(
      'this is node "node-a", but the request is for node "node-b" (/n/node-b/...): the load balancer routed it to the wrong node',
    );
  });
});

describe('originForm', () => {
  it.each([
    ['http://node.example:11182/ws/abc?x=1', '/ws/abc?x=1'],
    ['ws://node.example/?renderingLocation=ssr', '/?renderingLocation=ssr'],
    ['HTTP://node.example?ticket=t', '/?ticket=t'],
    ['http://node.example', '/'],
    ['/ws/abc', '/ws/abc'],
    ['/ws/http://x', '/ws/http://x'],
    [undefined, undefined],
  ])('%s -> %s', (url, target) => expect(originForm(url)).toBe(target));
});
