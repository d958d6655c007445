import type { FastifyInstance } from 'fastify';
import {
  type FaultHook,
  type KubeAccess,
  LiveConfig,
  type ObserverConfig,
  readDockerConfig,
} from '../config/index.ts';
import { AttestationChecks, Attestor, Controller, Reconciler } from '../controller/index.ts';
import { buildProbeServer, type HealthChecks } from '../http/index.ts';
import { type AttestationIndex, IndexHealth, IndexPruner } from '../index/index.ts';
import {
  FinalizerRunHold,
  KubeConnection,
  KubeEventRecorder,
  NamespaceLabels,
  PodReader,
  PublicKeySecretWriter,
  RunApi,
  RunWatcher,
  SecretReader,
  TokenBucket,
} from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { SubjectExistenceCheck } from '../policy/index.ts';
import { createSigningSource, type PublicKeyInfo } from '../signing/index.ts';
import { type BackendDeps, backendsFromConfig, type OciClients, ociClients } from '../storage/index.ts';
import { publishedKeyVerifier } from '../verify/index.ts';
import { startApi } from './api-listener.ts';
import { ConfigReloader } from './config-reloader.ts';
import { openIndexWhenReachable } from './index-opener.ts';
import { KeyRefresher } from './key-refresher.ts';
import { PublicKeyPublisher } from './public-key-publisher.ts';

export interface ObserverDeps {
  config: ObserverConfig;
  /** how to reach the apiserver (config/loadKubeConfig) */
  kubeAccess: KubeAccess;
  logger: Logger;
  metrics: Metrics;
  /** this replica's name, Events' `reportingInstance` (config/replicaName); default `provenance-observer` */
  instance?: string;
  /** tests only: a fault to inject (src/config/fault-hook.ts); default none */
  fault?: FaultHook;
  /** docker config dir for the observer's own registry credentials (default $DOCKER_CONFIG or ~/.docker) */
  dockerConfigDir?: string;
  /**
   * where `config` was read from (`--config`, and the `--set` overrides that win over it): re-read
   * every `config.reload-seconds`, live keys applied without a restart (config-reloader.ts)
   */
  reloadFrom?: {
    path: string;
    overrides?: Record<string, string>;
    /** the map `config` was parsed from (before overrides); a change since is applied at once */
    initial?: Record<string, string>;
    namespace?: string;
  };
}

export interface RunningObserver {
  /** probes and metrics (plain HTTP) */
  server: FastifyInstance;
  /** the lookup API (HTTPS), when served */
  apiServer?: FastifyInstance;
  controller: Controller;
  index: AttestationIndex;
  /** where probes and metrics are served, e.g. http://127.0.0.1:8080 */
  address: string;
  /** where the lookup API is served, e.g. https://127.0.0.1:8443 */
  apiAddress?: string;
  stop(): Promise<void>;
}

/**
 * The service's composition: builds every part from config and starts them in order —
 * keys, index, HTTP (so probes answer while the first list runs), then the controller.
 */
export async function startObserver(deps: ObserverDeps): Promise<RunningObserver> {
  const { logger, metrics } = deps;
  // parts read live keys per run through this view; the rest were copied at start and need a restart
  const live = new LiveConfig(deps.config);
  const config = live.view;
  const reloader = deps.reloadFrom
    ? new ConfigReloader({
        ...deps.reloadFrom,
        live,
        intervalSeconds: deps.config.reloadSeconds,
        logger,
        metrics,
        onApplied: (next) => {
          logger.level = next.logLevel;
          warnAboutDisabledArtifacts(next, logger);
        },
      })
    : undefined;
  // one connection pool and one client-side rate limit for every apiserver request
  const connection = new KubeConnection({
    access: deps.kubeAccess,
    limit: new TokenBucket({ qps: config.kubeApiQps, burst: config.kubeApiBurst }),
  });
  if (!config.subjectPolicy.configured)
    logger.warn(
      "attestation.subject-policy is not set: any run may name any repository as a subject and get it signed (Tekton Chains behaviour); the observer's own registry credentials serve storage.oci.repository only",
    );
  warnAboutDisabledArtifacts(config, logger);
  const runApi = new RunApi({ connection });
  // probes answer from the start: /livez (the startup probe) while the index or the keys are not
  // there yet, /readyz naming what is missing; the full checks replace these once every part runs
  let starting = 'starting';
  let checks: HealthChecks['checks'] = () => ({ startup: { ok: false, message: starting } });
  const server = buildProbeServer({ metrics, logger, health: { checks: () => checks() } });
  const address = await server.listen({ host: config.http.host, port: config.http.port });
  logger.info({ address }, 'serving probes and metrics');
  const index = await openIndexWhenReachable({
    config,
    logger,
    metrics,
    onWaiting: (message) => {
      starting = message ?? 'starting';
    },
  }).catch(async (err: unknown) => {
    await server.close();
    throw err;
  });
  const indexHealth = new IndexHealth({ index });
  await indexHealth.start();
  const signing = createSigningSource({ config, logger });
  const keys = new KeyRefresher({
    reader: new SecretReader({ connection, ...config.signingSecret }),
    target: signing,
    intervalSeconds: config.signingSecret.pollSeconds,
    logger,
    metrics,
    afterPoll: publicKeyPublisher(config, connection, () => signing.publicKeys(), logger),
  });
  await keys.start();

  const source = new RunWatcher({
    connection,
    runApi,
    logger,
    namespaces: config.namespaces,
    managedBy: config.managedBy,
  });
  metrics.setWatchAgeSource((kind) => source.sinceLastEvent(kind));
  const dockerConfig = readDockerConfig(deps.dockerConfigDir);
  const verifies = publishedKeyVerifier(() => signing.publicKeys());
  const namespaceLabels = new NamespaceLabels({ connection, logger });
  const backendDeps: BackendDeps = {
    config,
    connection,
    metrics,
    logger,
    dockerConfig,
    // a layer already holding our payload, signed by a published key, counts as stored
    verifies,
    subjectPolicy: config.subjectPolicy,
    namespaceLabels: (ns) => namespaceLabels.get(ns),
  };
  // one set of registry clients for storing and for existence checks: one pool and breaker per host
  const clients = ociClients(backendDeps);
  const backends = backendsFromConfig({ ...backendDeps, ociClients: clients });
  const attestor = new Attestor({
    config,
    backends,
    metrics,
    transparencyLog: () => signing.transparencyLog(),
    // a run's own envelope, signed by a published key, is adopted after an index loss
    verifies,
    checks: attestationChecks(backendDeps, clients, namespaceLabels),
  });
  const reconciler = new Reconciler({
    config,
    runApi,
    index,
    attestor,
    events: new KubeEventRecorder({ connection, logger, instance: deps.instance }),
    metrics,
    logger,
    signer: () => signing.active(),
    afterStored: faultAfterStored(deps.fault, logger),
  });
  const controller = new Controller({
    source,
    reconciler,
    index,
    metrics,
    logger,
    workers: config.workers,
    backlogWorkers: config.backlogWorkers,
    ownWrite: (uid, resourceVersion) => runApi.isOwnWrite(uid, resourceVersion),
    backoff: { baseMs: config.retryBaseMs, maxMs: 300_000 },
    // finalizer mode: a run deleted while no observer runs waits (unfinished) until one captured it
    ...(config.finalizers ? { hold: new FinalizerRunHold({ runApi, logger }) } : {}),
  });
  metrics.setOldestUnattestedSource(() => controller.oldestOutstandingMs());
  const pruner = new IndexPruner({
    index,
    logger,
    retentionDays: config.indexRetentionDays,
    onPruned: (what, count) => metrics.indexPruned.inc({ what }, count),
  });

  let stopping = false;
  let stopped: Promise<void> | undefined;
  checks = () => ({
    watch: {
      ok: source.synced(),
      message: source.synced() ? undefined : 'list/watch of runs not synced yet',
    },
    'signing-key': { ok: signing.status().ready, message: signing.status().message },
    index: indexHealth.status(),
    shutdown: { ok: !stopping, message: stopping ? 'shutting down' : undefined },
    ...(reloader ? { config: reloader.status() } : {}),
  });
  const { api: apiConfig } = config;
  const api = apiConfig.tlsCertFile
    ? await startApi(
        { ...apiConfig, tlsCertFile: apiConfig.tlsCertFile },
        { index, connection, logger, publicKeys: () => signing.publicKeys() },
      ).catch(async (err: unknown) => {
        keys.stop();
        indexHealth.stop();
        await server.close();
        await index.close();
        throw err;
      })
    : undefined;
  if (!api) logger.warn('lookup API not served: no TLS certificate configured (api.tls-cert-file)');
  await controller.start();
  logger.info('watching TaskRuns and PipelineRuns');
  pruner.start();
  // after every part started (nothing to undo if start-up fails); a change made since the
  // config was read is applied here
  reloader?.start();

  return {
    server,
    apiServer: api?.server,
    controller,
    index,
    address,
    apiAddress: api?.address,
    // a second stop waits for the first (closing the kube connection twice would throw)
    stop() {
      stopped ??= (async () => {
        stopping = true;
        reloader?.stop();
        keys.stop();
        api?.reloader.stop();
        indexHealth.stop();
        await pruner.stop();
        await controller.stop();
        await api?.server.close();
        await server.close();
        await index.close();
        await connection.close();
      })();
      return stopped;
    },
  };
}

/**
 * Subject policy, subject existence (HEAD through storage's own clients: the same credentials, the
 * namespace's and the observer's own only where the policy allows, host policy and breakers) and
 * the execution check.
 */
function attestationChecks(
  deps: BackendDeps,
  clients: OciClients,
  namespaceLabels: NamespaceLabels,
): AttestationChecks {
  const { config, connection } = deps;
  const existence = new SubjectExistenceCheck({
    clientFor: async (run, image) => {
      const at = image.repository.indexOf('/');
      const repository = image.repository.slice(at + 1);
      return { client: await clients.client(run, image.repository.slice(0, at), repository), repository };
    },
  });
  return new AttestationChecks({
    policy: config.subjectPolicy,
    executionCheck: config.executionCheck,
    existence: config.requireSubjectExists ? existence : undefined,
    pods: config.executionCheck === 'off' ? undefined : new PodReader({ connection }),
    namespaceLabels: (ns) => namespaceLabels.get(ns),
  });
}

/** Keeps the `public-key` Secret in step with the keys (none when `signing.public-key-secret.name` is ""). */
function publicKeyPublisher(
  config: ObserverConfig,
  connection: KubeConnection,
  publicKeys: () => PublicKeyInfo[],
  logger: Logger,
): (() => Promise<void>) | undefined {
  const { name, namespace } = config.publicKeySecret;
  if (!name) return undefined;
  const writer = new PublicKeySecretWriter({
    connection,
    name,
    namespace: namespace ?? config.signingSecret.namespace,
  });
  const publisher = new PublicKeyPublisher({ writer, publicKeys, logger });
  return () => publisher.sync();
}

/** Chains drops an artifact type silently when its signer is `none` or its storage is empty; we say so. */
function warnAboutDisabledArtifacts(config: ObserverConfig, logger: Logger): void {
  const types = {
    'artifacts.taskrun': config.taskrun,
    'artifacts.pipelinerun': config.pipelinerun,
    'artifacts.oci': config.oci,
  };
  for (const [prefix, artifact] of Object.entries(types)) {
    if (artifact.signer === 'none')
      logger.warn(`${prefix}.signer is "none": nothing of this type is produced or stored`);
    else if (artifact.storage.length === 0)
      logger.warn(`${prefix}.storage is empty: nothing of this type is produced or stored`);
  }
}

/** The fault hook's action after a run's attestation is stored (tests only; none by default). */
function faultAfterStored(fault: FaultHook | undefined, logger: Logger): (() => void) | undefined {
  switch (fault) {
    case undefined:
      return undefined;
    case 'kill-after-push':
      logger.warn('test fault hook armed: SIGKILL after the first push, before the index write');
      return () => {
        process.kill(process.pid, 'SIGKILL');
      };
    default:
      return fault satisfies never;
  }
}
