/**
 * The deployment recipes in deploy/ and the Dockerfile are not run here (no Docker engine or cluster on these
 * machines), so they are parsed and checked against the service itself: every setting they give is one the
 * service reads and accepts (parseAppConfig), every probe and health check path is a route the running
 * service answers, ports agree with PORT/AGENT_CHECK_PORT, and stop timeouts exceed DRAIN_TIMEOUT_S.
 */
import { readFileSync } from 'fs';
import { load, loadAll } from 'js-yaml';
import * as path from 'path';
import request from 'supertest';
import { parseAppConfig } from '../src/config/app-config';
import { renderHaproxyConfig } from './support/haproxy';
import { useCleanup } from './support/processes';
import { REPO_ROOT, startApp } from './support/spawner-app';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
type Doc = Record<string, any>;

/** Every environment variable the service reads: the names src/config passes to EnvReader. */
const SETTINGS = new Set(
  ['src/config/app-config.ts', 'src/config/setting-parsers.ts']
    .flatMap((file) => [...read(file).matchAll(/read\.\w+\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]))
    .concat('NODE_ENV'),
);

/** YAML merge keys (`<<: *anchor`) resolved, as Docker Compose does. */
function merged(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(merged);
  if (value === null || typeof value !== 'object') return value;
  const { '<<': base, ...rest } = value as Doc;
  const out: Doc = base ? { ...(merged(base) as Doc) } : {};
  for (const [key, item] of Object.entries(rest)) out[key] = merged(item);
  return out;
}

/** The settings are all known to the service and parse without a problem. */
function expectValidSettings(env: Record<string, string>): ReturnType<typeof parseAppConfig> {
  for (const name of Object.keys(env)) expect([name, SETTINGS.has(name)]).toEqual([name, true]);
  return parseAppConfig(env);
}

describe('deployment recipes match the service', () => {
  const cleanup = useCleanup();
  let answers: (route: string) => Promise<number>;

  beforeAll(() => {
    expect(SETTINGS.has('DRAIN_TIMEOUT_S')).toBe(true); // the extraction works
    expect(SETTINGS.has('SC_EXECUTABLE')).toBe(true);
  });

  beforeEach(async () => {
    const app = await startApp({ SC_PORT_BASE: '27300', SC_MAX_SPAWNS: '1', NODE_NAME: 'node-a' });
    cleanup.add(() => app.close(), 'in-process app');
    answers = async (route) => (await request(app.url).get(route)).status;
  });

  it('Kubernetes: StatefulSet with pod names as NODE_NAME, real probe routes, ports, grace above the drain, PDB, per-pod routes', async () => {
    const docs = loadAll(read('deploy/kubernetes/sc-spawner.yaml')) as Doc[];
    const kinds = docs.map((d) => d.kind as string);
    expect(kinds).toEqual(expect.arrayContaining(['StatefulSet', 'Service', 'Ingress', 'PodDisruptionBudget']));
    const set = docs.find((d) => d.kind === 'StatefulSet')!;
    const pod = set.spec.template.spec;
    const [container] = pod.containers as Doc[];
    const env: Record<string, string> = {};
    for (const entry of container.env as Doc[]) {
      if (entry.name === 'NODE_NAME') expect(entry.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
      else env[entry.name] = String(entry.value);
    }
    const config = expectValidSettings({ ...env, NODE_NAME: `${set.metadata.name}-0` });
    expect(config.agentCheckPort).toBeDefined();
    const ports = Object.fromEntries((container.ports as Doc[]).map((p) => [p.name, p.containerPort]));
    expect(ports).toEqual({ http: config.port, agent: config.agentCheckPort });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(await answers(container.readinessProbe.httpGet.path)).toBe(200);
    expect(await answers(container.livenessProbe.httpGet.path)).toBe(200);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.drainTimeoutS + config.killGraceS);
    expect(config.drainTimeoutS).toBeGreaterThan(0);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    // Prometheus scraping of the service's port; /metrics is served by the operable-node work (issue 10).
    const annotations = set.spec.template.metadata.annotations;
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(config.port) });
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    expect(docs.find((d) => d.kind === 'PodDisruptionBudget')!.spec.selector).toEqual(set.spec.selector);

    // Per pod: /n/<pod>/ goes to a Service selecting exactly that pod, not-ready included; the rest to ready pods.
    const services = new Map(docs.filter((d) => d.kind === 'Service').map((d) => [d.metadata.name as string, d]));
    const paths = (docs.find((d) => d.kind === 'Ingress')!.spec.rules[0].http.paths as Doc[]).map(
      (p) => [p.path as string, p.backend.service.name as string] as const,
    );
    for (let i = 0; i < set.spec.replicas; i++) {
      const podName = `${set.metadata.name}-${i}`;
      const route = paths.find(([p]) => p === `/n/${podName}/`);
      expect(route).toBeDefined();
      const service = services.get(route![1])!;
      expect(service.spec.selector).toEqual({ 'statefulset.kubernetes.io/pod-name': podName });
      expect(service.spec.publishNotReadyAddresses).toBe(true);
    }
    const fallback = services.get(paths.find(([p]) => p === '/')![1])!;
    expect(fallback.spec.selector).toEqual(set.spec.selector.matchLabels);
    expect(fallback.spec.publishNotReadyAddresses).toBeUndefined();
    for (const service of services.values()) expect(service.spec.ports[0].port).toBe(config.port);
  });

  it('compose: three nodes named as in haproxy.cfg, valid settings, stop grace above the drain; HAProxy gets the recipe', () => {
    const compose = merged(load(read('deploy/compose.yaml'))) as Doc;
    const nodes = Object.entries(compose.services as Record<string, Doc>).filter(([name]) => name !== 'haproxy');
    expect(nodes.map(([name]) => name)).toEqual(['node-a', 'node-b', 'node-c']);
    for (const [name, service] of nodes) {
      const config = expectValidSettings(service.environment as Record<string, string>);
      expect(config.nodeName).toBe(name);
      expect(config.port).toBe(11182);
      expect(config.agentCheckPort).toBe(11183);
      expect(parseInt(service.stop_grace_period as string, 10)).toBeGreaterThan(
        config.drainTimeoutS + config.killGraceS,
      );
    }
    const haproxy = compose.services.haproxy as Doc;
    expect(haproxy.volumes).toContain('./haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
  });

  it("haproxy.cfg: readiness check and agent on the nodes' real route and ports, retries, backups, per-node backends", async () => {
    const cfg = read('deploy/haproxy/haproxy.cfg');
    const check = /option httpchk GET (\S+)/.exec(cfg)![1];
    expect(check).toBe('/health/ready');
    expect(await answers(check)).toBe(200);
    for (const line of [
      'option http-buffer-request',
      'retry-on 503 conn-failure empty-response',
      'option redispatch 1',
      'timeout tunnel 1h',
      'balance roundrobin',
    ])
      expect(cfg).toContain(line);
    for (const node of ['node-a', 'node-b', 'node-c']) {
      expect(cfg).toMatch(new RegExp(`^    server ${node} ${node}:11182 agent-port 11183$`, 'm'));
      expect(cfg).toMatch(new RegExp(`^    server ${node}-last ${node}:11182 backup no-check no-agent-check$`, 'm'));
      expect(cfg).toMatch(new RegExp(`^    use_backend ${node} if \\{ path_beg /n/${node}/ \\}`, 'm'));
      expect(cfg).toMatch(new RegExp(`^backend ${node}\\n    server ${node} ${node}:11182$`, 'm'));
    }
    expect(cfg).toMatch(/default-server check .*weight 100 agent-check/);
    // The test rendering leaves nothing pointing at the recipe's host names.
    const rendered = renderHaproxyConfig(
      ['node-a', 'node-b', 'node-c'].map((name, i) => ({ name, port: 1000 + i, agentPort: 2000 + i })),
    );
    expect(rendered).not.toMatch(/node-[abc]:11182|agent-port 11183/);
  });

  it('systemd: KillMode=mixed, stop timeout above the drain, valid settings', () => {
    const unit = read('deploy/systemd/sc-spawner.service');
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node \/opt\/sc-spawner\/dist\/src\/main\.js$/m);
    const env = Object.fromEntries(
      read('deploy/systemd/sc-spawner.env')
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const config = expectValidSettings(env);
    expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1])).toBeGreaterThan(config.drainTimeoutS + config.killGraceS);
  });

  it('Dockerfile: multi-stage on Node 24 slim, non-root, tini, HEALTHCHECK on a real route, exposed ports = settings', async () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM node:24-[a-z]+-slim\b/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)![1];
    const env = Object.fromEntries([...envBlock.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const config = expectValidSettings(env);
    expect(/^EXPOSE (.+)$/m.exec(dockerfile)![1].split(' ').map(Number)).toEqual([config.port, config.agentCheckPort]);
    const health = /^HEALTHCHECK [\s\S]*?fetch\('http:\/\/127\.0\.0\.1:(\d+)(\/[^']*)'\)/m.exec(dockerfile)!;
    expect(Number(health[1])).toBe(config.port);
    expect(health[2]).toBe('/health');
    expect(await answers(health[2])).toBe(200);
  });
});
