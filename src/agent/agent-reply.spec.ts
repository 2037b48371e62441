import { agentReply, type AgentState } from './agent-reply';

const idle: AgentState = { freeSlots: 8, maxSpawns: 8, freePorts: 16, draining: false };

describe('agentReply', () => {
  it.each([
    [0, 8, 'up ready 100%\n'],
    [3, 8, 'up ready 63%\n'], // 5/8 = 62.5% rounds up
    [5, 8, 'up ready 38%\n'],
    [7, 8, 'up ready 13%\n'],
    [8, 8, 'up ready 0%\n'], // full: not down, only no weight
    [1, 3, 'up ready 67%\n'],
    [2, 3, 'up ready 33%\n'],
  ])('%i of %i slots in use: %j', (activeSpawns, maxSpawns, line) => {
    expect(agentReply({ ...idle, freeSlots: maxSpawns - activeSpawns, maxSpawns })).toBe(line);
  });

  it('a slot an unclaimed warm server holds is free: a node whose slots are all warm says 100%', () => {
    expect(agentReply({ ...idle, freeSlots: 8 })).toBe('up ready 100%\n');
  });

  it('fewer ports than free slots: the ports are the room (3 slots, 2 ports, both warm: 67%, not 100%)', () => {
    expect(agentReply({ ...idle, freeSlots: 3, maxSpawns: 3, freePorts: 2 })).toBe('up ready 67%\n');
    expect(agentReply({ ...idle, freeSlots: 2, maxSpawns: 8, freePorts: 5 })).toBe('up ready 25%\n');
  });

  it('no free WebSocket port: 0% (up, nothing new fits)', () => {
    expect(agentReply({ ...idle, freePorts: 0 })).toBe('up ready 0%\n');
  });

  it('draining: drain, whatever the capacity', () => {
    expect(agentReply({ ...idle, draining: true })).toBe('drain\n');
    expect(agentReply({ ...idle, freeSlots: 0, draining: true })).toBe('drain\n');
  });

  it('cannot spawn: down with the reason on one line, before anything else', () => {
    expect(agentReply({ ...idle, draining: true, cannotSpawn: 'executable missing:\n/opt/sc/server' })).toBe(
      'down #executable missing: /opt/sc/server\n',
    );
  });
});
