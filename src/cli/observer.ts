import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import { type ObserverConfig, readDockerConfig } from '../config/index.ts';
import { Attestor, Controller, Reconciler } from '../controller/index.ts';
import { buildServer, CachedAuthorizer, KubeAuthorizer } from '../http/index.ts';
import { type AttestationIndex, SqliteIndex } from '../index/index.ts';
import { KubeEventRecorder, RunApi, RunWatcher, reuseConnections, SecretReader } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { createSigningSource } from '../signing/index.ts';
import { backendsFromConfig } from '../storage/index.ts';
import { KeyRefresher } from './key-refresher.ts';

export interface ObserverDeps {
  config: ObserverConfig;
  kubeConfig: KubeConfig;
  logger: Logger;
  metrics: Metrics;
  /** docker config dir for the observer's own registry credentials (default $DOCKER_CONFIG or ~/.docker) */
  dockerConfigDir?: string;
}

export interface RunningObserver {
  server: FastifyInstance;
  controller: Controller;
  index: AttestationIndex;
  /** where the HTTP server listens, e.g. http://127.0.0.1:8080 */
  address: string;
  stop(): Promise<void>;
}

/**
 * The service's composition: builds every part from config and starts them in order —
 * keys, index, HTTP (so probes answer while the first list runs), then the controller.
 */
export async function startObserver(deps: ObserverDeps): Promise<RunningObserver> {
  const { config, logger, metrics } = deps;
  const kubeConfig = reuseConnections(deps.kubeConfig);
  warnAboutDisabledArtifacts(config, logger);
  const runApi = new RunApi({ kubeConfig });
  if (config.indexPath !== ':memory:') mkdirSync(dirname(config.indexPath), { recursive: true });
  const index = new SqliteIndex({ path: config.indexPath });
  const signing = createSigningSource({ config, logger });
  const keys = new KeyRefresher({
    reader: new SecretReader({ kubeConfig, ...config.signingSecret }),
    target: signing,
    intervalSeconds: config.signingSecret.pollSeconds,
    logger,
    metrics,
  });
  await keys.start();

  const source = new RunWatcher({
    kubeConfig,
    runApi,
    logger,
    namespaces: config.namespaces,
    managedBy: config.managedBy,
  });
  metrics.setWatchAgeSource((kind) => source.sinceLastEvent(kind));
  const dockerConfig = readDockerConfig(deps.dockerConfigDir);
  const backends = backendsFromConfig({ config, kubeConfig, runApi, metrics, logger, dockerConfig });
  const attestor = new Attestor({
    config,
    backends,
    metrics,
    transparencyLog: () => signing.transparencyLog(),
  });
  const reconciler = new Reconciler({
    config,
    runApi,
    index,
    attestor,
    events: new KubeEventRecorder({ kubeConfig, logger }),
    metrics,
    logger,
    signer: () => signing.active(),
  });
  const controller = new Controller({ source, reconciler, index, metrics, logger, workers: config.workers });

  let stopping = false;
  const server = buildServer({
    index,
    publicKeys: () => signing.publicKeys(),
    metrics,
    logger,
    authorizer: new CachedAuthorizer({ inner: new KubeAuthorizer({ kubeConfig }) }),
    health: {
      checks: () => ({
        watch: {
          ok: source.synced(),
          message: source.synced() ? undefined : 'list/watch of runs not synced yet',
        },
        'signing-key': { ok: signing.status().ready, message: signing.status().message },
        shutdown: { ok: !stopping, message: stopping ? 'shutting down' : undefined },
      }),
    },
  });
  const address = await server.listen({ host: config.http.host, port: config.http.port });
  logger.info({ address }, 'serving health, metrics and the lookup API');
  await controller.start();
  logger.info('watching TaskRuns and PipelineRuns');

  return {
    server,
    controller,
    index,
    address,
    async stop() {
      stopping = true;
      keys.stop();
      await controller.stop();
      await server.close();
      await index.close();
    },
  };
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
