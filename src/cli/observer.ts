import type { FastifyInstance } from 'fastify';
import { processMemoryBudget } from '../cache/index.ts';
import { type FaultHook, type KubeAccess, LiveConfig, type ObserverConfig } from '../config/index.ts';
import type { Controller } from '../controller/index.ts';
import { type AttestationIndex, IndexSeal } from '../index/index.ts';
import { KubeConnection, kubeRequestKind, TokenBucket } from '../kube/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { type Part, startParts } from './compose/parts.ts';

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
 * The service's composition: builds every part from config, then starts them in order — the kube
 * connection and the index (opened first: every other part uses them), the index's health probe,
 * the signing keys, the probe server (so probes answer while the first list runs), the lookup
 * API, the controller, the pruner and the config reloader — and stops them in reverse
 * (parts.ts). A part that fails to start stops the ones started before it.
 */
export async function startObserver(deps: ObserverDeps): Promise<RunningObserver> {
  const { logger } = deps;
  // parts read live keys per run through this view; the rest were copied at start and need a restart
  const live = new LiveConfig(deps.config);
  const config = live.view;
  warnAtStart(config, logger);
  // every tenant-influenced read reserves from the process's memory budget; its waits are counted
  processMemoryBudget.onWait = (reader) => deps.metrics.memoryBudgetWaits.inc({ reader });
  logger.info(
    { memoryBudgetBytes: processMemoryBudget.totalBytes },
    'memory budget for tenant-influenced reads',
  );
  // one connection pool and one client-side rate limit for every apiserver request
  const connection = new KubeConnection({
    access: deps.kubeAccess,
    limit: new TokenBucket({ qps: config.kubeApiQps, burst: config.kubeApiBurst }),
    onRequest: (method, path, query) => deps.metrics.kubeRequests.inc(kubeRequestKind(method, path, query)),
  });
  // seals the index rows a signature may rest on; keyed from the signing Secret once it loads
  const seal = new IndexSeal();
  const index = await openIndexWhenReachable({ config, logger, metrics: deps.metrics, seal }).catch(
    async (err: unknown) => {
      await connection.close();
      throw err;
    },
  );
  const core = buildCore(deps, config, connection, index, seal);
  const checkpoints = checkpointParts(deps, core);
  const policy = policyStatementParts(deps, config, core);
  const serving = servingParts(deps, config, core, checkpoints.checkpointer, () =>
    policy.publisher.current(),
  );
  const parts: Part[] = [
    { name: 'kube-connection', stop: () => connection.close() },
    { name: 'index', stop: () => index.close() },
    {
      name: 'index-health',
      start: () => core.indexHealth.start(),
      stop: () => core.indexHealth.stop(),
      health: () => ({ index: core.indexHealth.status() }),
    },
    {
      name: 'signing-keys',
      start: () => core.keys.start(),
      stop: () => {
        core.keys.stop();
        core.signing.close?.();
      },
      health: () => {
        const { ready, message } = core.signing.status();
        return { 'signing-key': { ok: ready, message } };
      },
    },
    core.tenants.part,
    ...serving.parts,
    controllerPart(core, logger),
    ...checkpoints.parts,
    ...policy.parts,
    { name: 'index-pruner', start: () => core.pruner.start(), stop: () => core.pruner.stop() },
    // last: a change made since the config was read is applied once every part runs
    ...configReloaderParts(deps, live, policy.onConfigApplied),
  ];
  serving.health(parts);
  const running = await startParts(parts, logger);
  return {
    server: serving.probe.server,
    apiServer: serving.api.server,
    controller: core.controller,
    index,
    address: serving.probe.address,
    apiAddress: serving.api.address,
    stop: () => {
      serving.shutDown();
      return running.stop();
    },
  };
}

import { checkpointParts } from './compose/checkpoints.ts';
import { buildCore, controllerPart } from './compose/core.ts';
import { openIndexWhenReachable } from './compose/index-opener.ts';
import { policyStatementParts } from './compose/policy-statement.ts';
import { configReloaderParts, servingParts } from './compose/serving.ts';
import { warnAtStart } from './compose/setup.ts';
