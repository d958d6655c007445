import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  DEPLOY_DIR,
  type LocalEnv,
  loadKustomizeBase,
  loadLocalEnv,
  type ManifestObject,
  type PrometheusProcess,
  STATE_DIR,
  startPrometheus,
} from '../env/index.ts';
import { startTestObserver, type TestObserver } from '../helpers/observer.ts';
import { completeBuildTaskRun, waitFor, waitForSigned } from '../helpers/tekton.ts';
import { pushTestImage } from '../helpers/test-image.ts';

// A real Prometheus (Debian's) scrapes a running observer with the ServiceMonitor's settings and
// evaluates the PrometheusRule's groups; promtool validates the rules and proves each alert.
const exec = promisify(execFile);
const ALERT_TESTS = join(import.meta.dirname, '../fixtures/prometheus/alerts.test.yaml');

interface Endpoint {
  port: string;
  path: string;
  scheme: string;
  interval: string;
  scrapeTimeout: string;
}

describe('Prometheus scrapes the observer and evaluates our alert rules', () => {
  let env: LocalEnv;
  let obs: TestObserver;
  let prom: PrometheusProcess;
  const dir = join(STATE_DIR, '..', 'prometheus', String(Date.now()));
  // the monitoring Component's objects, as deploy/overlays/monitoring installs them
  const base = loadKustomizeBase(join(DEPLOY_DIR, 'overlays/monitoring'));
  const endpoint = serviceMonitorEndpoint(base);
  const groups = (one(base, 'PrometheusRule') as unknown as { spec: { groups: RuleGroup[] } }).spec.groups;

  beforeAll(async () => {
    env = loadLocalEnv();
    obs = await startTestObserver(env);
    // one attested TaskRun, so the counters and histograms hold samples before the first scrape
    const image = await pushTestImage(env.registry, `prometheus/taskrun-${Date.now()}`, 'v1');
    const name = await completeBuildTaskRun(image, { name: `prom-${Date.now()}` });
    await waitForSigned('TaskRun', 'tenant-a', name);
    const target = new URL(obs.observer.address).host;
    prom = await startPrometheus({
      dir,
      files: { 'rules.yaml': stringify({ groups }) },
      config: {
        global: { evaluation_interval: '5s' },
        rule_files: ['rules.yaml'],
        scrape_configs: [
          {
            // the job name the Prometheus Operator gives a ServiceMonitor endpoint
            job_name: 'serviceMonitor/provenance-observer/provenance-observer/0',
            scrape_interval: endpoint.interval,
            scrape_timeout: endpoint.scrapeTimeout,
            metrics_path: endpoint.path,
            scheme: endpoint.scheme,
            static_configs: [
              { targets: [target], labels: { namespace: 'provenance-observer', pod: 'test' } },
            ],
          },
        ],
      },
    });
  }, 180_000);
  afterAll(async () => {
    await prom?.stop();
    await obs?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the Service port the ServiceMonitor names, at its interval', async () => {
    const service = one(base, 'Service') as unknown as {
      spec: { ports: { name: string; targetPort: string }[] };
    };
    expect(service.spec.ports.find((p) => p.name === endpoint.port)?.targetPort).toBe('http');
    const target = await waitFor(
      'a successful scrape',
      async () => {
        const body = await api(prom, '/api/v1/targets');
        const active = body.data.activeTargets as {
          health: string;
          lastError: string;
          scrapeInterval: string;
        }[];
        return active.find((t) => t.health === 'up');
      },
      // the first scrape comes at a random offset within the interval
      2 * seconds(endpoint.interval) * 1000 + 10_000,
    );
    expect(target.lastError).toBe('');
    expect(target.scrapeInterval).toBe(endpoint.interval);
  }, 120_000);

  it('serves the Chains-named counters with the attested run counted', async () => {
    for (const kind of ['taskrun', 'pipelinerun'])
      for (const name of ['sign_created_total', 'payload_stored_total', 'marked_signed_total'])
        expect(await query(prom, `watcher_${kind}_${name}`), `watcher_${kind}_${name}`).not.toHaveLength(0);
    const marked = await query(prom, 'watcher_taskrun_marked_signed_total');
    expect(Number(marked[0]!.value[1])).toBeGreaterThanOrEqual(1);
    const failures = await query(prom, 'watcher_taskrun_signing_failures_total');
    expect(failures.map((s) => s.metric.error_type).sort()).toEqual(
      ['marshal_payload', 'payload_creation', 'signing', 'storage', 'tlog'].sort(),
    );
  });

  it('serves our latency histograms with the attested run observed', async () => {
    const attest = await query(prom, 'provenance_observer_attest_duration_seconds_count{kind="TaskRun"}');
    expect(Number(attest[0]?.value[1])).toBeGreaterThanOrEqual(1);
    const buckets = await query(prom, 'provenance_observer_attest_duration_seconds_bucket{kind="TaskRun"}');
    expect(buckets.map((s) => s.metric.le)).toContain('+Inf');
    const stages = await query(prom, 'sum by (stage) (provenance_observer_stage_duration_seconds_count)');
    expect(stages.map((s) => s.metric.stage)).toEqual(expect.arrayContaining(['sign', 'store']));
    const p99 = await query(
      prom,
      'histogram_quantile(0.99, sum by (le) (provenance_observer_attest_duration_seconds_bucket))',
    );
    expect(Number(p99[0]?.value[1])).toBeGreaterThan(0);
  });

  it('evaluates every alert rule without error on real data, none firing for a healthy observer', async () => {
    const names = groups.flatMap((g) => g.rules.map((r) => r.alert));
    const rules = await waitFor('every rule evaluated', async () => {
      const body = await api(prom, '/api/v1/rules');
      const loaded = (
        body.data.groups as { rules: { name: string; health: string; state: string }[] }[]
      ).flatMap((g) => g.rules);
      return loaded.length === names.length && loaded.every((r) => r.health !== 'unknown')
        ? loaded
        : undefined;
    });
    expect(rules.map((r) => r.name)).toEqual(names);
    for (const r of rules)
      expect({ name: r.name, health: r.health, state: r.state }).toEqual({
        name: r.name,
        health: 'ok',
        state: 'inactive',
      });
    const scraped = new Set((await api(prom, '/api/v1/label/__name__/values')).data as string[]);
    const referenced = groups.flatMap((g) =>
      g.rules.flatMap((r) => r.expr.match(/\b(?:provenance_observer|watcher)_\w+/g) ?? []),
    );
    for (const metric of referenced) expect(scraped.has(metric), `${metric} in the scrape`).toBe(true);
  }, 60_000);

  it('passes promtool check rules and promtool test rules', async () => {
    const work = join(dir, 'promtool');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'rules.yaml'), stringify({ groups }));
    copyFileSync(ALERT_TESTS, join(work, 'alerts.test.yaml'));
    const check = await exec('promtool', ['check', 'rules', 'rules.yaml'], { cwd: work });
    expect(check.stdout).toContain(`SUCCESS: ${groups.flatMap((g) => g.rules).length} rules found`);
    const test = await exec('promtool', ['test', 'rules', 'alerts.test.yaml'], { cwd: work });
    expect(test.stdout).toContain('SUCCESS');
    // every alert of the manifest has a promtool test
    const tested = readAlertNames(ALERT_TESTS);
    for (const g of groups) for (const r of g.rules) expect(tested, r.alert).toContain(r.alert);
  });
});

interface RuleGroup {
  name: string;
  rules: { alert: string; expr: string }[];
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

function one(objects: ManifestObject[], kind: string): ManifestObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`deploy/: expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

function serviceMonitorEndpoint(objects: ManifestObject[]): Endpoint {
  const monitor = one(objects, 'ServiceMonitor') as unknown as { spec: { endpoints: Endpoint[] } };
  const [endpoint] = monitor.spec.endpoints;
  if (!endpoint || monitor.spec.endpoints.length !== 1)
    throw new Error('ServiceMonitor: expected one endpoint');
  return endpoint;
}

function seconds(duration: string): number {
  const m = /^(\d+)(s|m)$/.exec(duration);
  if (!m) throw new Error(`unsupported duration ${duration}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

// biome-ignore lint/suspicious/noExplicitAny: Prometheus API JSON, checked field by field by the tests
async function api(prom: PrometheusProcess, path: string): Promise<{ status: string; data: any }> {
  const res = await fetch(`${prom.url}${path}`);
  const body = (await res.json()) as { status: string; data: unknown; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error}`);
  return body;
}

async function query(prom: PrometheusProcess, promql: string): Promise<Sample[]> {
  const body = await api(prom, `/api/v1/query?query=${encodeURIComponent(promql)}`);
  return body.data.result as Sample[];
}

function readAlertNames(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]!);
}
