import {
  artifactEnabled,
  faultHookFromEnv,
  loadConfig,
  loadKubeConfig,
  type ObserverConfig,
  readConfigSource,
} from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02 } from '../../intoto/index.ts';
import { KubeConnection, NamespaceLabels, RunApi, SecretReader, TokenBucket } from '../../kube/index.ts';
import { createLogger, createMetrics } from '../../observability/index.ts';
import { createSigningSource } from '../../signing/index.ts';
import type { RunKind } from '../../tekton/index.ts';
import { parseFlags, parseSets } from '../args.ts';
import { buildAttestor } from '../compose/core.ts';
import { faultAfterStored, openIndex } from '../compose/setup.ts';
import { tenantKeyParts } from '../compose/tenant-keys.ts';
import { KeyRefresher } from '../key-refresher.ts';
import { type ResignSelection, runResignJob } from './resign-job.ts';

const USAGE = `usage: provenance-observer resign [--config <dir|file>] [--set key=value]... [--kubeconfig <file>]
         [-n <namespace>]... [-l <selector>] [--since <time>] [--until <time>] [--kind TaskRun|PipelineRun]...
         [--concurrency <n>] [--limit <n>] [--restart] [--dry-run]

Re-attests runs the index holds as attested after a key rotation or a format change: each selected
run without an attestation signed by the active key in the configured format is signed again,
stored where the configuration says (one more .att/.sig layer) and recorded in the index; its
tekton annotations are replaced. Runs already current are left alone, so it is safe to run again.
Progress is saved in the index after every batch: run the same command again after a kill (or
after --limit) and it continues where it stopped; --restart starts over.

-n, --namespace   only these namespaces (repeatable; default all)
-l, --selector    label selector, as kubectl's (e.g. app=build,tier!=test)
--since, --until  completionTime range [since, until), RFC 3339
--kind            TaskRun and/or PipelineRun (default both)
--concurrency     runs re-attested at once (default 4, at most 32)
--limit           re-attest at most this many runs now, then stop (progress saved)
--dry-run         count what would be re-attested; nothing signed or saved
The configuration, signing Secret and index are the service's (as for run). Progress goes to
stderr; the summary (JSON) to stdout. Exit code 1 when a run failed.`;

const FLAGS = {
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  kubeconfig: { type: 'string' },
  namespace: { type: 'string', short: 'n', multiple: true },
  selector: { type: 'string', short: 'l' },
  since: { type: 'string' },
  until: { type: 'string' },
  kind: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  limit: { type: 'string' },
  restart: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
} as const;

export async function resignCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const path = values.config;
  const config = loadConfig({
    path,
    source: path ? readConfigSource(path) : undefined,
    overrides: parseSets(values.set),
  });
  const logger = createLogger({ level: config.logLevel, destination: process.stderr });
  const connection = new KubeConnection({
    access: loadKubeConfig({ path: values.kubeconfig }),
    limit: new TokenBucket({ qps: config.kubeApiQps, burst: config.kubeApiBurst }),
  });
  const index = await openIndex(config, logger);
  let stopTenants: () => void | Promise<void> = () => {};
  try {
    const signing = createSigningSource({ config, logger });
    const reader = new SecretReader({ connection, ...config.signingSecret });
    const metrics = createMetrics();
    await new KeyRefresher({ reader, target: signing, intervalSeconds: 3600, logger, metrics }).refresh();
    // tenant runs are re-signed with their tenant's active key beside the platform's
    const tenants = tenantKeyParts(config, connection, new NamespaceLabels({ connection, logger }), {
      logger,
      metrics,
    });
    await tenants.part.start?.();
    stopTenants = () => tenants.part.stop?.();
    const signer = signing.active();
    if (!signer)
      throw new ObserverError(
        `resign: no active signing key in Secret ${reader.describe()}: ${signing.status().message}`,
        {
          code: 'key_unavailable',
          retryable: false,
        },
      );
    const job = await runResignJob({
      selection: selectionOf(values),
      signer,
      predicateTypes: predicateTypes(config),
      concurrency: count(values.concurrency, 'concurrency', 4, 32),
      ...(values.limit !== undefined
        ? { limit: count(values.limit, 'limit', 0, Number.MAX_SAFE_INTEGER) }
        : {}),
      restart: values.restart === true,
      dryRun: values['dry-run'] === true,
      runApi: new RunApi({ connection }),
      index,
      attestor: buildAttestor({ logger, metrics }, config, connection, signing, index, 'resign', tenants),
      progress: (line) => process.stderr.write(`${line}\n`),
      ...afterStored(faultAfterStored(faultHookFromEnv(), logger)),
    });
    const { id, cursor, resigned, current, failed } = job;
    process.stdout.write(
      `${JSON.stringify({ job: id, keyId: signer.keyId, resigned, current, failed, cursor })}\n`,
    );
    return failed > 0 ? 1 : 0;
  } finally {
    await stopTenants();
    await index.close();
    await connection.close();
  }
}

function selectionOf(values: {
  namespace?: string[];
  selector?: string;
  since?: string;
  until?: string;
  kind?: string[];
}): ResignSelection {
  const kinds = (values.kind?.length ? values.kind : ['TaskRun', 'PipelineRun']).map((k) => {
    if (k !== 'TaskRun' && k !== 'PipelineRun') throw usage(`--kind ${k}: expected TaskRun or PipelineRun`);
    return k as RunKind;
  });
  return {
    namespaces: values.namespace ?? [],
    ...(values.selector ? { selector: values.selector } : {}),
    ...(values.since ? { since: time(values.since, 'since') } : {}),
    ...(values.until ? { until: time(values.until, 'until') } : {}),
    kinds: [...new Set(kinds)],
  };
}

/** What a current attestation's predicate type is per kind (absent: provenance disabled for the kind). */
function predicateTypes(config: ObserverConfig): Partial<Record<RunKind, string>> {
  const of = (a: ObserverConfig['taskrun']) =>
    artifactEnabled(a) ? (a.format === 'slsa/v1.0' ? SLSA_PROVENANCE_V1 : SLSA_PROVENANCE_V02) : undefined;
  const types: Partial<Record<RunKind, string>> = {};
  const tr = of(config.taskrun);
  const pr = of(config.pipelinerun);
  if (tr) types.TaskRun = tr;
  if (pr) types.PipelineRun = pr;
  return types;
}

function time(value: string, flag: string): Date {
  const at = new Date(value);
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(+at))
    throw usage(`--${flag} ${value}: expected an RFC 3339 time`);
  return at;
}

function count(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > max || (flag === 'concurrency' && n < 1))
    throw usage(`--${flag} ${value}: expected an integer up to ${max}`);
  return n;
}

const afterStored = (hook: (() => void) | undefined) => (hook ? { afterStored: hook } : {});

const usage = (message: string) =>
  new ObserverError(`resign: ${message}\n${USAGE}`, { code: 'config_invalid', retryable: false });
