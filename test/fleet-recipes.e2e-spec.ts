/**
 * The monitoring and Kubernetes recipes checked by the tools that read them: promtool checks and unit-tests
 * deploy/prometheus (every alert fires and stays quiet when it should: sc-spawner-rules.test.yaml); every
 * metric the rules and the Grafana dashboard name is served by a live node's /metrics; the Kubernetes
 * manifests validate against the Kubernetes API's schemas (kubernetes-models, offline), and every setting
 * they give the service is one it reads.
 */
import { execFile } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { loadAll } from 'js-yaml';
import * as path from 'path';
import { promisify } from 'util';
import { useCleanup } from './support/processes';
import { serviceSettingNames } from './support/settings';
import { REPO_ROOT, startApp } from './support/spawner-app';
import { requireSystemBinary } from './support/system-packages';
import { makeTempDir } from './support/temp';

const run = promisify(execFile);
const read = (file: string): string => readFileSync(path.join(REPO_ROOT, file), 'utf8');
const PROMETHEUS_DIR = path.join(REPO_ROOT, 'deploy/prometheus');
const RULES = 'deploy/prometheus/sc-spawner-rules.yaml';
const DASHBOARD = 'deploy/grafana/sc-spawner.json';
const MANIFESTS = 'deploy/kubernetes/sc-spawner.yaml';

type Doc = Record<string, any>;

/** Metric names in PromQL: the service's own families and the Node.js process ones it exports. */
function metricNames(expression: string): string[] {
  return [...expression.matchAll(/\b((?:sc_spawner|nodejs|process)_[a-z0-9_]+)\b/g)].map((m) => m[1]);
}

function ruleExpressions(): string[] {
  const { groups } = (loadAll(read(RULES)) as Doc[])[0] as { groups: Array<{ rules: Array<{ expr: string }> }> };
  return groups.flatMap((group) => group.rules.map((rule) => rule.expr));
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(read(DASHBOARD)) as Doc;
  const targets = (dashboard.panels as Doc[]).flatMap((panel) => (panel.targets as Doc[]).map((t) => t.expr as string));
  const variables = (dashboard.templating.list as Doc[]).map((v) => v.definition as string | undefined);
  return [...targets, ...variables.filter((v): v is string => v !== undefined)];
}

/** Every environment variable the service reads, from its configuration readers. */
const SETTINGS = serviceSettingNames();

/** The kubernetes-models class for a manifest, by its apiVersion and kind (the package is ESM only). */
async function modelOf(apiVersion: string, kind: string): Promise<{ new (data: Doc): { validate(): void } }> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const module = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`)) as Doc;
  return module[kind] as never;
}

describe('monitoring and Kubernetes recipes, checked by their tools', () => {
  const cleanup = useCleanup();

  it('promtool check rules accepts deploy/prometheus/sc-spawner-rules.yaml', async () => {
    const promtool = requireSystemBinary('/usr/bin/promtool', 'prometheus');
    const { stdout } = await run(promtool, ['check', 'rules', 'sc-spawner-rules.yaml'], { cwd: PROMETHEUS_DIR });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: each alert fires when it should and stays quiet when it should not', async () => {
    const promtool = requireSystemBinary('/usr/bin/promtool', 'prometheus');
    const { stdout } = await run(promtool, ['test', 'rules', 'sc-spawner-rules.test.yaml'], { cwd: PROMETHEUS_DIR });
    expect(stdout).toMatch(/SUCCESS/);
    // Every alert of the rules file is tested both ways (some exp_alerts with entries, some empty).
    const tests = read('deploy/prometheus/sc-spawner-rules.test.yaml');
    const alerts = [...read(RULES).matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:(.*)`, 'g'))].map((m) =>
        m[1].trim(),
      );
      expect([alert, cases.includes('[]')]).toEqual([alert, true]);
      expect([alert, cases.includes('')]).toEqual([alert, true]);
    }
  });

  it('a broken rule file fails promtool (the check can fail)', async () => {
    const promtool = requireSystemBinary('/usr/bin/promtool', 'prometheus');
    const dir = makeTempDir(cleanup);
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, read(RULES).replace('> 0.05', '> > 0.05'));
    await expect(run(promtool, ['check', 'rules', broken])).rejects.toMatchObject({ code: 1 });
  });

  it("every metric the rules and the Grafana dashboard use is in a live node's /metrics", async () => {
    const app = await startApp({ SC_PORT_BASE: '29400', SC_MAX_SPAWNS: '2', NODE_NAME: 'node-a' });
    cleanup.add(() => app.close(), 'in-process app');
    const exposition = await (await fetch(`${app.url}/metrics`)).text();
    // Every family the node declares (a labelled histogram has no bucket line before its first observation).
    const served = new Set(
      [...exposition.matchAll(/^# TYPE ([a-z_:][a-z0-9_:]*) (\w+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' || type === 'summary' ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
      ),
    );
    expect(served.has('sc_spawner_ready')).toBe(true);
    expect(served.has('sc_spawner_warm_target')).toBe(true);
    for (const [source, expressions] of [
      [RULES, ruleExpressions()],
      [DASHBOARD, dashboardExpressions()],
    ] as const) {
      const names = new Set(expressions.flatMap(metricNames));
      expect(names.size).toBeGreaterThan(5);
      for (const name of names) expect([source, name, served.has(name)]).toEqual([source, name, true]);
    }
  });

  it('the Grafana dashboard imports with the data source as a variable', () => {
    const dashboard = JSON.parse(read(DASHBOARD)) as Doc;
    expect(dashboard.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    for (const panel of dashboard.panels as Doc[]) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const target of panel.targets as Doc[]) expect(target.datasource.uid).toBe('${datasource}');
    }
    const ids = (dashboard.panels as Doc[]).map((p) => p.id as number);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the Kubernetes manifests validate against the Kubernetes API schemas, and give only settings the service reads', async () => {
    const docs = (loadAll(read(MANIFESTS)) as Doc[]).filter(Boolean);
    expect(docs.length).toBeGreaterThan(3);
    for (const doc of docs) {
      const Model = await modelOf(doc.apiVersion as string, doc.kind as string);
      expect(() => new Model(doc).validate()).not.toThrow();
      const containers = (doc.spec?.template?.spec?.containers ?? []) as Doc[];
      for (const container of containers) {
        for (const entry of (container.env ?? []) as Doc[]) {
          expect([entry.name, SETTINGS.has(entry.name as string)]).toEqual([entry.name, true]);
        }
      }
    }
    // The validation can fail: a wrong field type in the StatefulSet is refused.
    const set = docs.find((d) => d.kind === 'StatefulSet')!;
    const StatefulSet = await modelOf('apps/v1', 'StatefulSet');
    expect(() => new StatefulSet({ ...set, spec: { ...set.spec, replicas: 'three' } }).validate()).toThrow();
  });
});
