/**
 * The deployment recipes in deploy/ and the Dockerfile are not run here (no Docker engine or cluster on these
 * machines), so they are parsed and checked against the service itself: every setting they give is one the
 * service reads and accepts (parseAppConfig), every probe and health check path is a route the running
 * service answers, ports agree with PORT/AGENT_CHECK_PORT, and stop timeouts exceed DRAIN_TIMEOUT_S.
 * Each is also safe as shipped (keys from a secret, SPAWN_AUTH=required, CORS_ORIGINS, a trusted proxy named,
 * a sandbox, the servers' ports closed), and the files a real tool reads are checked by that tool:
 * `systemd-analyze security --offline=yes` and `systemd-analyze verify` on the unit, `nft -c` on the firewall.
 * The HAProxy recipe is run for real in scale-out and balancer-trust.
 */
import { spawnSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { load, loadAll } from 'js-yaml';
import * as path from 'path';
import request from 'supertest';
import { parseAppConfig } from '../src/config/app-config';
import { defaultStateParent } from '../src/config/state-dir';
import { renderHaproxyConfig } from './support/haproxy';
import { useCleanup } from './support/processes';
import { serviceSettingNames } from './support/settings';
import { REPO_ROOT, startApp } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';

const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** The firewall recipe with another user as the service's (nft needs a user that exists here). */
const withServiceUser = (recipe: string, user: string): string =>
  recipe.replace(/^define sc_service_user = .*$/m, `define sc_service_user = "${user}"`);
type Doc = Record<string, any>;

/** Every environment variable the service reads, from its configuration readers. */
const SETTINGS = serviceSettingNames();

/** YAML merge keys (`<<: *anchor`) resolved, as Docker Compose does. */
function merged(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(merged);
  if (value === null || typeof value !== 'object') return value;
  const { '<<': base, ...rest } = value as Doc;
  const out: Doc = base ? { ...(merged(base) as Doc) } : {};
  for (const [key, item] of Object.entries(rest)) out[key] = merged(item);
  return out;
}

/** `KEY=value` lines (comments and blank lines skipped), as systemd's EnvironmentFile= reads them. */
function envLines(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** The systemd node's settings: the EnvironmentFile plus the unit's Environment= lines (%d: credentials). */
function systemdSettings(unit: string): Record<string, string> {
  const fromUnit = [...unit.matchAll(/^Environment=([A-Z_0-9]+)=(.*)$/gm)].map(
    ([, name, value]) => [name, value.replace('%d', '/run/credentials/sc-spawner.service')] as const,
  );
  return { ...envLines(read('deploy/systemd/sc-spawner.env')), ...Object.fromEntries(fromUnit) };
}

/** The servers' WebSocket ports a configuration gives them: [first, last]. */
const serverPorts = (config: { portBase: number; portCount: number }): [number, number] => [
  config.portBase,
  config.portBase + config.portCount - 1,
];

/** A recipe's trust settings: keys required, from a file, a browser origin named, the proxy named not trusted blindly. */
function expectSafeSettings(env: Record<string, string>, keysFile: RegExp): void {
  expect(env.SPAWN_AUTH).toBe('required');
  expect(env.API_KEYS).toBeUndefined();
  expect(env.API_KEYS_FILE).toMatch(keysFile);
  expect(env.CORS_ORIGINS).toMatch(/^https?:\/\/[^*,\s]+$/);
  expect(env.TRUST_PROXY).toMatch(/^[0-9a-f.:/,]+$/i);
  expect(env.PUBLIC_ENDPOINT).toBe('proxy');
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

  it("Kubernetes: keys from a Secret, sandboxed container with limits, servers' ports closed by a NetworkPolicy", () => {
    const docs = loadAll(read('deploy/kubernetes/sc-spawner.yaml')) as Doc[];
    const set = docs.find((d) => d.kind === 'StatefulSet')!;
    const pod = set.spec.template.spec;
    const [container] = pod.containers as Doc[];
    const env = Object.fromEntries(
      (container.env as Doc[]).filter((e) => e.value !== undefined).map((e) => [e.name, String(e.value)]),
    );
    expectSafeSettings(env, /^\/run\/secrets\/[^/]+\/[^/]+$/);
    const config = parseAppConfig({ ...env, NODE_NAME: 'sc-spawner-0' });
    // The keys file is a Secret mounted read-only where API_KEYS_FILE points.
    const mounts = container.volumeMounts as Doc[];
    const keysMount = mounts.find((m) => env.API_KEYS_FILE.startsWith(`${m.mountPath}/`))!;
    expect(keysMount.readOnly).toBe(true);
    expect((pod.volumes as Doc[]).find((v) => v.name === keysMount.name)!.secret.secretName).toBeTruthy();

    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const kind of ['requests', 'limits']) expect(Object.keys(container.resources[kind])).toContain('memory');
    expect(Object.keys(container.resources.limits)).toContain('cpu');
    // With a read-only root, every folder the service writes is an emptyDir: state, workspace, /tmp.
    const volumes = new Map((pod.volumes as Doc[]).map((v) => [v.name as string, v]));
    const writable = mounts
      .filter((m) => !m.readOnly)
      .map((m): [string, Doc] => [m.mountPath as string, volumes.get(m.name as string)!]);
    for (const [mountPath, volume] of writable)
      expect([mountPath, volume.emptyDir]).toEqual([mountPath, expect.anything()]);
    const written = writable.map(([mountPath]) => mountPath);
    for (const folder of [config.stateDir!, config.workspaceDir!, '/tmp'])
      expect(written.some((m) => folder === m || folder.startsWith(`${m}/`))).toBe(true);
    // The only root step (the emptyDirs' sticky bit) has no capability and cannot escalate.
    for (const init of (pod.initContainers ?? []) as Doc[]) {
      expect(init.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(init.resources.limits).toBeDefined();
    }

    // The NetworkPolicy selects these pods and lets in only the service's own ports, none of the servers'.
    const policy = docs.find((d) => d.kind === 'NetworkPolicy')!;
    expect(policy.spec.podSelector).toEqual(set.spec.selector);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const [first, last] = serverPorts(config);
    const allowed = (policy.spec.ingress as Doc[]).flatMap((rule) => (rule.ports ?? [{ port: undefined }]) as Doc[]);
    expect(allowed.length).toBeGreaterThan(0);
    for (const rule of allowed) {
      expect(typeof rule.port).toBe('number'); // a rule without ports would open every port
      const end = (rule.endPort as number | undefined) ?? (rule.port as number);
      expect(end < first || rule.port > last).toBe(true);
    }
    expect(allowed.map((rule) => rule.port)).toContain(config.port);
    // TRUST_PROXY is the pod network: the service's port admits only the ingress controller's pods, the peers and
    // Prometheus's (each by its labels in its namespace; no address block), so no other pod can name a client.
    const servicePort = (policy.spec.ingress as Doc[]).filter((rule) =>
      (rule.ports as Doc[]).some((p) => p.port === config.port),
    );
    expect(config.trustProxy).toEqual(['10.0.0.0/8']);
    expect(servicePort).toHaveLength(1);
    const sources = servicePort[0].from as Doc[];
    for (const source of sources) expect(Object.keys(source).sort()).not.toContain('ipBlock');
    expect(docs.find((d) => d.kind === 'Ingress')!.spec.ingressClassName).toBe('nginx');
    const inNamespace = (namespace: string, name: string) => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': name } },
    });
    expect(sources).toEqual([
      inNamespace('ingress-nginx', 'ingress-nginx'),
      inNamespace('monitoring', 'prometheus'),
      { podSelector: set.spec.selector },
    ]);
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

  it('compose: keys from a secret, read-only sandboxed nodes, TRUST_PROXY is the balancer, no node port published', () => {
    const compose = merged(load(read('deploy/compose.yaml'))) as Doc;
    const haproxy = compose.services.haproxy as Doc;
    const balancer = Object.values(haproxy.networks as Record<string, Doc>)[0].ipv4_address as string;
    expect(balancer).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const nodes = Object.entries(compose.services as Record<string, Doc>).filter(([name]) => name !== 'haproxy');
    for (const [name, service] of nodes) {
      const env = service.environment as Record<string, string>;
      expectSafeSettings(env, /^\/run\/secrets\/\w+$/);
      expect([name, env.TRUST_PROXY]).toEqual([name, balancer]);
      const secret = env.API_KEYS_FILE.slice('/run/secrets/'.length);
      expect(service.secrets).toContain(secret);
      expect(compose.secrets[secret].file).toBeTruthy();
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.security_opt).toContain('no-new-privileges:true');
      expect(service.ports).toBeUndefined();
      expect(service.mem_limit).toBeTruthy();
      // Every folder the node writes is a tmpfs; the state folder the service's own (uid 1000 = node, 0700).
      const config = parseAppConfig(env);
      const tmpfs = (service.tmpfs as string[]).map((entry) => entry.split(':'));
      const mount = (folder: string) => tmpfs.find(([target]) => target === folder)?.[1];
      expect(mount(config.stateDir!)).toMatch(/\buid=1000\b.*\bmode=0?700\b/);
      expect(mount(config.workspaceDir!)).toBeDefined();
      expect(mount('/tmp')).toBeDefined();
    }
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
      'option forwardfor',
      'http-request del-header X-Forwarded-For',
      'http-request deny deny_status 403 if liveliness_report',
      'http-request deny deny_status 403 if METH_POST hoops_report',
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
    const config = expectValidSettings(systemdSettings(unit));
    expect(Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)![1])).toBeGreaterThan(config.drainTimeoutS + config.killGraceS);
  });

  it('systemd: keys and license as credentials, state in RuntimeDirectory, the sandbox the issue asks for', () => {
    const unit = read('deploy/systemd/sc-spawner.service');
    const env = systemdSettings(unit);
    expectSafeSettings(env, /^\/run\/credentials\/sc-spawner\.service\/[\w-]+$/);
    // Each credential file the settings name is loaded by the unit.
    for (const setting of ['API_KEYS_FILE', 'SC_LICENSE_FILE']) {
      const name = env[setting].split('/').pop()!;
      expect([setting, unit]).toEqual([
        setting,
        expect.stringMatching(new RegExp(`^LoadCredential=${name}:/etc/`, 'm')),
      ]);
    }
    // The state folder is systemd's, not a folder named in the environment: with RuntimeDirectory= set the
    // service takes $RUNTIME_DIRECTORY before $STATE_DIRECTORY, and the recipe's comments say so.
    expect(env.SC_STATE_DIR).toBeUndefined();
    expect(unit).toMatch(/^RuntimeDirectory=sc-spawner$/m);
    expect(defaultStateParent({ RUNTIME_DIRECTORY: '/run/sc-spawner', STATE_DIRECTORY: '/var/lib/sc-spawner' })).toBe(
      '/run/sc-spawner',
    );
    for (const file of ['deploy/systemd/sc-spawner.service', 'deploy/systemd/sc-spawner.env'])
      expect([file, read(file)]).toEqual([
        file,
        expect.not.stringMatching(/state folder[^\n]*(\$STATE_DIRECTORY|StateDirectory=)/i),
      ]);
    for (const line of [
      'StateDirectory=sc-spawner',
      'RuntimeDirectory=sc-spawner',
      'ProtectSystem=strict',
      'ProtectHome=true',
      'PrivateTmp=true',
      'ProtectProc=invisible',
      'CapabilityBoundingSet=',
      'NoNewPrivileges=true',
      'SystemCallFilter=@system-service',
      'Delegate=yes',
    ])
      expect(unit).toMatch(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(unit).toMatch(/^RestrictAddressFamilies=(AF_\w+ ?)+$/m);
    expect(unit).toMatch(/^MemoryMax=\d+[KMGT]?$/m);
    // setpriority (the servers run niced) stays allowed: @resources is not denied.
    expect(unit).not.toMatch(/^SystemCallFilter=~.*@resources/m);
  });

  it('systemd: `systemd-analyze security --offline=yes` rates the unit 2.5 or better', () => {
    const analyze = requireSystemBinary('/usr/bin/systemd-analyze', 'systemd');
    const result = spawnSync(
      analyze,
      ['security', '--offline=yes', '--no-pager', path.join(REPO_ROOT, 'deploy/systemd/sc-spawner.service')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const output = `${result.stdout}${result.stderr}`;
    const level = /Overall exposure level for sc-spawner\.service: (\d+(?:\.\d+)?) (\w+)/.exec(output);
    expect([level !== null, output]).toEqual([true, output]);
    expect(Number(level![1])).toBeLessThanOrEqual(2.5);
    expect(level![2]).toBe('OK');
  });

  it('systemd: `systemd-analyze verify` finds nothing wrong with the unit (its misspelled copy is caught)', () => {
    const analyze = requireSystemBinary('/usr/bin/systemd-analyze', 'systemd');
    // The one substitution: verify needs ExecStart's binary to exist, so the copy runs this test's own Node.js.
    const dir = makeTempDir(cleanup, 'sc-unit-');
    const unit = read('deploy/systemd/sc-spawner.service');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node /m);
    const verify = (text: string): { status: number | null; findings: string[] } => {
      const file = path.join(dir, 'sc-spawner.service');
      writeFileSync(file, text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
      const result = spawnSync(analyze, ['verify', '--no-pager', file], { encoding: 'utf8', timeout: 30_000 });
      const lines = `${result.stdout}${result.stderr}`.split('\n');
      return { status: result.status, findings: lines.filter((l) => l.includes('sc-spawner.service')) };
    };
    expect(verify(unit)).toEqual({ status: 0, findings: [] });
    const misspelled = verify(unit.replace(/^ProtectProc=invisible$/m, 'ProtectProc=invisibel'));
    expect(misspelled.findings.join('\n')).toMatch(/ProtectProc|invisibel/);
  });

  it("nftables: `nft -c` accepts the host firewall, which closes exactly the systemd node's server ports", () => {
    const nft = requireSystemBinary('/usr/sbin/nft', 'nftables');
    const check = (file: string) => spawnSync(nft, ['-c', '-f', file], { encoding: 'utf8', timeout: 30_000 });
    const text = read('deploy/nftables/sc-spawner.nft');
    // Only the systemd unit's user may connect to the servers; nft resolves the name, which this machine may lack.
    const unitUser = /^User=(.+)$/m.exec(read('deploy/systemd/sc-spawner.service'))![1];
    expect(/^define sc_service_user = "(.+)"$/m.exec(text)?.[1]).toBe(unitUser);
    const checked = path.join(makeTempDir(cleanup, 'sc-nft-'), 'sc-spawner.nft');
    writeFileSync(checked, withServiceUser(text, 'root'));
    const result = check(checked);
    expect([result.status, result.stderr]).toEqual([0, '']);
    const range = /^define sc_server_ports = (\d+)-(\d+)$/m.exec(text)!;
    const config = parseAppConfig(systemdSettings(read('deploy/systemd/sc-spawner.service')));
    expect([Number(range[1]), Number(range[2])]).toEqual(serverPorts(config));
    expect(config.port < Number(range[1]) || config.port > Number(range[2])).toBe(true);
    expect(text).toMatch(/^\s*iif "lo" accept$/m);
    expect(text).toMatch(/^\s*tcp dport \$sc_server_ports .*drop/m);
    // The check is the tool's, not a formality: a broken copy is refused.
    const broken = path.join(makeTempDir(cleanup, 'sc-nft-'), 'broken.nft');
    writeFileSync(broken, withServiceUser(text, 'root').replace('drop comment', 'dorp comment'));
    expect(check(broken).status).not.toBe(0);
  });

  it("nftables, loaded in a network namespace of its own: a connection to a server port is refused unless it is the service's user's", () => {
    const nft = requireSystemBinary('/usr/sbin/nft', 'nftables');
    requireSystemBinary('/usr/sbin/ip', 'iproute2');
    // In the namespace this test's user is root (as root, or mapped to it): as the recipe's service user it gets in;
    // with another user (nobody) as the service's, it is the other local user. The host's firewall is not touched.
    const namespace = process.getuid?.() === 0 ? ['--net'] : ['--user', '--map-root-user', '--net'];
    const port = 27490; // in a namespace of its own: no other test's port
    const recipe = read('deploy/nftables/sc-spawner.nft').replace(
      /^define sc_server_ports = .*$/m,
      `define sc_server_ports = ${port}-${port + 1}`,
    );
    const connectAs = (rules: string) => {
      const file = path.join(makeTempDir(cleanup, 'sc-nft-'), 'rules.nft');
      writeFileSync(file, rules);
      const listen = `require('net').createServer((s) => s.end()).listen(${port}, '127.0.0.1'); setTimeout(process.exit, 15000)`;
      const script = [
        'set -e',
        'ip link set lo up',
        `${nft} -f ${file}`,
        `${process.execPath} -e "${listen}" &`,
        "trap 'kill %1' EXIT",
        `for i in $(seq 100); do ss -ltnH "sport = :${port}" | grep -q . && break; sleep 0.05; done`,
        `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null && echo ok || echo refused`,
      ].join('\n');
      const run = spawnSync('timeout', ['20', 'unshare', ...namespace, 'bash', '-c', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      return run.stdout.trim();
    };
    expect(connectAs(withServiceUser(recipe, 'root'))).toBe('ok');
    expect(connectAs(withServiceUser(recipe, 'nobody'))).toBe('refused');
    // Without its output chain the other user gets in: the chain is what refuses it.
    expect(connectAs(withServiceUser(recipe, 'nobody').replace(/chain output \{[^}]*\}/, ''))).toBe('ok');
  });

  it('docs/security.md: names every trust setting and recipe file, no line over 120 characters outside code', () => {
    const page = read('docs/security.md');
    for (const name of [
      'API_KEYS_FILE',
      'SPAWN_AUTH',
      'SC_TICKET_TTL_S',
      'CORS_ORIGINS',
      'TRUST_PROXY',
      'SC_FIRST_MESSAGE_TIMEOUT_S',
      'HEADERS_TIMEOUT_S',
      'REQUEST_TIMEOUT_S',
      'MAX_CONNECTIONS_PER_CLIENT',
      'POST /tickets',
      'ProtectProc=invisible',
      'deploy/nftables/sc-spawner.nft',
      'NetworkPolicy',
      'Config.js',
    ])
      expect([name, page.includes(name)]).toEqual([name, true]);
    // ProtectProc= sets hidepid= on the unit's own /proc: it hides other users from the service, not the service
    // from them (their /proc is the host's). Neither the page nor the unit may promise otherwise.
    expect(page).not.toMatch(/ProtectProc=invisible`[^\n]*other users see none/);
    expect(page).toMatch(/the host's `\/proc` mounted with `hidepid=invisible`/);
    expect(read('deploy/systemd/sc-spawner.service')).not.toMatch(/other local users see none/i);
    let inCode = false;
    const long: string[] = [];
    for (const line of page.split('\n')) {
      if (line.startsWith('```')) inCode = !inCode;
      else if (!inCode && line.length > 120) long.push(line);
    }
    expect(long).toEqual([]);
  });

  it('Dockerfile: multi-stage on Node 24 slim, non-root, tini, HEALTHCHECK on a real route, exposed ports = settings', async () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM node:24-[a-z]+-slim\b/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    const envBlock = /^ENV ((?:.*\\\n)*.*)$/m.exec(dockerfile)![1];
    const env = Object.fromEntries([...envBlock.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2]]));
    const config = expectValidSettings(env);
    // Keys required as shipped: the image stops at start without a keys file mounted as a secret.
    expect(env).toMatchObject({ SPAWN_AUTH: 'required', API_KEYS_FILE: '/run/secrets/api_keys' });
    expect(/^EXPOSE (.+)$/m.exec(dockerfile)![1].split(' ').map(Number)).toEqual([config.port, config.agentCheckPort]);
    const health = /^HEALTHCHECK [\s\S]*?fetch\('http:\/\/127\.0\.0\.1:(\d+)(\/[^']*)'\)/m.exec(dockerfile)!;
    expect(Number(health[1])).toBe(config.port);
    expect(health[2]).toBe('/health');
    expect(await answers(health[2])).toBe(200);
  });
});
