import { spawn } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { connect } from 'net';
import * as path from 'path';
import { freePort } from './ports';
import { type Cleanup } from './processes';
import { requireSystemBinary } from './system-packages';
import { makeTempDir } from './temp';
import { waitFor } from './wait';

export const HAPROXY_RECIPE = path.resolve(__dirname, '../../deploy/haproxy/haproxy.cfg');
export const HAPROXY_BINARY = '/usr/sbin/haproxy';

/** A node as the recipe names it (node-a, node-b, node-c), where it really listens in the test. */
export interface BalancedNode {
  name: string;
  port: number;
  agentPort: number;
}

/**
 * deploy/haproxy/haproxy.cfg itself, with each `<name>:11182` pointed at 127.0.0.1:<port> and each agent
 * port at the node's own: the recipe is what is tested, not a copy. Throws when the recipe no longer names a node.
 */
export function renderHaproxyConfig(nodes: readonly BalancedNode[]): string {
  let config = readFileSync(HAPROXY_RECIPE, 'utf8');
  for (const node of nodes) {
    const address = new RegExp(`\\b${node.name}:11182\\b`, 'g');
    if (!address.test(config)) throw new Error(`${HAPROXY_RECIPE} has no server ${node.name}:11182`);
    config = config.replace(address, `127.0.0.1:${node.port}`);
    const agent = new RegExp(`(server ${node.name} 127\\.0\\.0\\.1:${node.port} agent-port )11183\\b`);
    if (!agent.test(config)) throw new Error(`${HAPROXY_RECIPE}: server ${node.name} has no agent-port 11183`);
    config = config.replace(agent, `$1${node.agentPort}`);
  }
  return config;
}

export interface RunningHaproxy {
  url: string;
  port: number;
  output: string[];
}

/**
 * HAProxy on 127.0.0.1 with the rendered recipe and short check intervals, on `port` when the nodes must know it
 * first (PUBLIC_BASE_URL), else on a free one; killed at cleanup.
 */
export async function startHaproxy(
  nodes: readonly BalancedNode[],
  cleanup: Cleanup,
  tunables: { checkInterMs?: number; agentInterMs?: number; port?: number } = {},
): Promise<RunningHaproxy> {
  const binary = requireSystemBinary(HAPROXY_BINARY, 'haproxy');
  const dir = makeTempDir(cleanup, 'sc-haproxy-');
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, renderHaproxyConfig(nodes));
  const port = tunables.port ?? (await freePort());
  const output: string[] = [];
  const child = spawn(binary, ['-f', file, '-db'], {
    env: {
      PATH: process.env.PATH,
      LB_BIND: `127.0.0.1:${port}`,
      CHECK_INTER: String(tunables.checkInterMs ?? 100),
      AGENT_INTER: String(tunables.agentInterMs ?? 100),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  cleanup.trackChild(child);
  const state = await waitFor(
    async () => (child.exitCode !== null ? 'exited' : (await canConnect(port)) && 'listening'),
    5000,
    { description: () => `haproxy to listen on ${port}:\n${output.join('')}` },
  );
  if (state === 'exited') throw new Error(`haproxy exited ${child.exitCode}:\n${output.join('')}`);
  return { url: `http://127.0.0.1:${port}`, port, output };
}

/** Resolves once HAProxy passes requests to `node`: `GET /n/<node>/health` through it answers 200. */
export async function waitUntilBalanced(lb: RunningHaproxy, node: string): Promise<void> {
  await waitFor(
    async () => (await fetch(`${lb.url}/n/${node}/health`).catch(() => undefined))?.status === 200,
    10_000,
    { description: () => `HAProxy to pass requests to ${node}:\n${lb.output.join('')}` },
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
