import { Attestor, ChainsAdopter } from '../../attest/index.ts';
import { type ObserverConfig, readDockerConfig } from '../../config/index.ts';
import { CaptureGate, Controller, cpuBusySampler } from '../../controller/index.ts';
import { type AttestationIndex, IndexHealth, IndexPruner, type IndexSeal } from '../../index/index.ts';
import {
  FinalizerRunHold,
  type KubeConnection,
  KubeEventRecorder,
  MAX_ITEM_BYTES,
  NamespaceLabels,
  type OversizedRun,
  RunApi,
  RunWatcher,
  SecretReader,
} from '../../kube/index.ts';
import type { Logger } from '../../observability/index.ts';
import { diskShareFromConfig, Reconciler } from '../../reconcile/index.ts';
import { RETRY_MAX_MS } from '../../retry/index.ts';
import { createSigningSource, type PublicKeyInfo } from '../../signing/index.ts';
import { type BackendDeps, backendsFromConfig, findAttestation, ociClients } from '../../storage/index.ts';
import { scopedKeyVerifier } from '../../verify/index.ts';
import { KeyRefresher } from '../key-refresher.ts';
import type { ObserverDeps } from '../observer.ts';
import { chainsTrustSource } from './chains-trust.ts';
import { faultSigner } from './fault-signer.ts';
import { reportBrokenSeals, sealKeysFromSecret } from './index-seal-keys.ts';
import type { Part } from './parts.ts';
import { publicKeyPublisher } from './public-keys.ts';
import { attestationChecks, faultAfterStored, podEvidenceReader } from './setup.ts';
import { type TenantKeyParts, tenantKeyParts } from './tenant-keys.ts';
/** What the parts are made of: keys, the run source, the attest pipeline, the controller. */
export interface Core {
  connection: KubeConnection;
  index: AttestationIndex;
  indexHealth: IndexHealth;
  signing: ReturnType<typeof createSigningSource>;
  keys: KeyRefresher;
  /** `signing.tenant-keys`: the tenants' keys and their pollers */
  tenants: TenantKeyParts;
  source: RunWatcher;
  controller: Controller;
  pruner: IndexPruner;
}

export function buildCore(
  deps: ObserverDeps,
  config: ObserverConfig,
  connection: KubeConnection,
  index: AttestationIndex,
  seal: IndexSeal,
): Core {
  const { logger, metrics } = deps;
  const runApi = new RunApi({ connection });
  const signing = signingSource(config, deps);
  const tenants = tenantKeyParts(config, connection, new NamespaceLabels({ connection, logger }), deps);
  const events = new KubeEventRecorder({ connection, logger, instance: deps.instance });
  const secret = new SecretReader({ connection, ...config.signingSecret });
  seal.onBroken = reportBrokenSeals(metrics, logger, events);
  const keys = new KeyRefresher({
    reader: secret,
    target: signing,
    intervalSeconds: config.signingSecret.pollSeconds,
    logger,
    metrics,
    afterPoll: publicKeyPublisher(config, connection, () => signing.publicKeys(), logger),
    onData: sealKeysFromSecret(seal, secret.describe(), logger),
  });
  const source = new RunWatcher({
    connection,
    runApi,
    logger,
    namespaces: config.namespaces,
    managedBy: config.managedBy,
    reportOversized: reportOversizedRuns(metrics, events),
  });
  metrics.setWatchAgeSource((kind) => source.sinceLastEvent(kind));
  // the index volume's fair shares: attempts reserve from it, captures are gated by it
  const space = diskShareFromConfig(config, index, metrics);
  const reconciler = new Reconciler({
    config,
    space,
    runApi,
    index,
    attestor: buildAttestor(deps, config, connection, signing, index, 'observe', tenants),
    events,
    metrics,
    logger,
    signer: faultSigner(deps.fault, logger, () => signing.active()),
    ...(tenants.keyMissing ? { tenantKeyMissing: tenants.keyMissing } : {}),
    afterStored: faultAfterStored(deps.fault, logger),
  });
  const controller = new Controller({
    source,
    reconciler,
    index,
    claimOwner: reconciler.owner,
    metrics,
    logger,
    workers: config.workers,
    backlogWorkers: config.backlogWorkers,
    // the backlog's concurrency follows the CPU the machine (or our quota) has left
    cpuBusyShare: cpuBusySampler(),
    ownWrite: (uid, resourceVersion) => runApi.isOwnWrite(uid, resourceVersion),
    captureGate: new CaptureGate({ space, events, metrics, logger }),
    backoff: { baseMs: config.retryBaseMs, maxMs: RETRY_MAX_MS },
    // the execution check's evidence: a finished TaskRun's Pod, read when the run is captured
    ...(config.executionCheck === 'off' ? {} : { podEvidence: podEvidenceReader(connection) }),
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
  const indexHealth = new IndexHealth({ index });
  return { connection, index, indexHealth, signing, keys, tenants, source, controller, pruner };
}

/** A run over MAX_ITEM_BYTES, handled from its metadata: counted and told on the run, not attested. */
function reportOversizedRuns(metrics: ObserverDeps['metrics'], events: KubeEventRecorder) {
  return (run: OversizedRun) => {
    metrics.oversizedRuns.inc({ kind: run.kind });
    void events.record({
      run,
      type: 'Warning',
      reason: 'RunTooLarge',
      message: `the ${run.kind} is ${run.bytes} bytes of JSON, over the ${MAX_ITEM_BYTES} the observer reads whole; it was not attested`,
    });
  };
}

/**
 * The attest pipeline: storage backends and the checks before signing, on one set of registry
 * clients. `resign` (cli/resign/): only the active key counts for "already stored" and for
 * adopting a run's own envelope (a layer or annotation signed by a retired key is what resign
 * replaces), and runs Chains signed are not adopted (resign handles attested runs only).
 */
export function buildAttestor(
  deps: Pick<ObserverDeps, 'logger' | 'metrics' | 'dockerConfigDir'>,
  config: ObserverConfig,
  connection: KubeConnection,
  signing: ReturnType<typeof createSigningSource>,
  index: AttestationIndex,
  purpose: 'observe' | 'resign' = 'observe',
  tenants?: Pick<TenantKeyParts, 'keys' | 'signerFor'>,
): Attestor {
  const { logger, metrics } = deps;
  // a tenant's signatures verify with that tenant's published keys only (storage, adoption)
  const keysOf = (tenant: string) => () => tenants?.keys.get(tenant)?.source.publicKeys() ?? [];
  const activeOf = new Map<string, () => readonly PublicKeyInfo[]>();
  const verifies = scopedKeyVerifier(
    purpose === 'resign' ? activeKeys(() => signing.publicKeys()) : () => signing.publicKeys(),
    purpose === 'resign'
      ? (tenant) => {
          const active = activeOf.get(tenant) ?? activeKeys(keysOf(tenant));
          activeOf.set(tenant, active);
          return active();
        }
      : (tenant) => keysOf(tenant)(),
  );
  const namespaceLabels = new NamespaceLabels({ connection, logger });
  const backendDeps: BackendDeps = {
    config,
    connection,
    metrics,
    logger,
    dockerConfig: readDockerConfig(deps.dockerConfigDir),
    // a layer already holding our payload, signed by a published key, counts as stored
    verifies,
    subjectPolicy: config.subjectPolicy,
    namespaceLabels: (ns, context) => namespaceLabels.get(ns, context),
  };
  // one set of registry clients for storing and for existence checks: one pool and breaker per host
  const clients = ociClients(backendDeps);
  const trust = purpose === 'observe' ? chainsTrustSource(config, connection, logger) : undefined;
  return new Attestor({
    config,
    backends: backendsFromConfig({ ...backendDeps, ociClients: clients }),
    metrics,
    transparencyLog: () => signing.transparencyLog(),
    ...(tenants?.signerFor ? { tenantSigner: tenants.signerFor } : {}),
    // a run's own envelope, signed by a published key, is adopted after an index loss
    verifies,
    checks: attestationChecks(backendDeps, clients, namespaceLabels, index),
    // runs Tekton Chains signed, adopted when Chains' key verifies them (adoption.* keys)
    ...(trust
      ? {
          chains: new ChainsAdopter({
            trust,
            attestations: (run, image, want, verifies, context) =>
              findAttestation(
                { clients, repositoryOverride: config.storageOci.repository },
                run,
                image,
                want,
                verifies,
                context,
              ),
          }),
        }
      : {}),
  });
}

/** The active key alone, as the same array while the keys stay the same (the verifier caches on it). */
function activeKeys(keys: () => readonly PublicKeyInfo[]): () => readonly PublicKeyInfo[] {
  let from: readonly PublicKeyInfo[] | undefined;
  let active: readonly PublicKeyInfo[] = [];
  return () => {
    const now = keys();
    if (now !== from) {
      from = now;
      active = now.filter((k) => k.active);
    }
    return active;
  };
}

export function controllerPart(core: Core, logger: Logger): Part {
  return {
    name: 'controller',
    start: async () => {
      await core.controller.start();
      logger.info('watching TaskRuns and PipelineRuns');
    },
    stop: () => core.controller.stop(),
    health: () => {
      const synced = core.source.synced();
      return { watch: { ok: synced, message: synced ? undefined : 'list/watch of runs not synced yet' } };
    },
  };
}

/** The signing keys (Secret or PKCS#11 token); token errors show on the key metrics. */
function signingSource(config: ObserverConfig, { logger, metrics }: ObserverDeps) {
  return createSigningSource({
    config,
    logger,
    onTokenError: (step) => {
      metrics.signingTokenErrors.inc({ step });
      metrics.keyReady.set(0);
    },
    onTokenOpened: () => metrics.keyReady.set(1),
  });
}
