import type { ObserverConfig } from '../config/index.ts';
import { CoreApi, type KubeConnection } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { type SubjectPolicy, UNSET_SUBJECT_POLICY } from '../policy/index.ts';
import type { BackendName, Destination } from './backend.ts';
import type { CredentialSource } from './credentials.ts';
import { DockerConfigCredentials } from './credentials-docker-config.ts';
import { PolicyGatedCredentials } from './credentials-policy-gated.ts';
import { ServiceAccountCredentials } from './credentials-service-account.ts';
import { OciBackend } from './oci-backend.ts';
import { OciClients, type RegistryNetworkOptions } from './oci-clients.ts';
import type { SignatureVerifier } from './oci-stored-payload.ts';
import { TektonRunMarker } from './tekton-run-marker.ts';

export interface BackendDeps {
  config: ObserverConfig;
  connection: KubeConnection;
  metrics: Metrics;
  logger: Logger;
  /** the observer's own docker config.json, parsed (config/readDockerConfig) */
  dockerConfig?: unknown;
  /** `attestation.subject-policy`; default unset */
  subjectPolicy?: SubjectPolicy;
  /** a namespace's labels, for policies that select namespaces by label */
  namespaceLabels?: (
    namespace: string,
    context?: AttemptContext,
  ) => Promise<Readonly<Record<string, string>>>;
  /** OciBackend's `verifies`: accepts signatures by the published keys (verify/publishedKeyVerifier) */
  verifies?: SignatureVerifier;
  /** the registry clients (ociClients): pass the ones the subject-existence check uses too */
  ociClients?: OciClients;
}

/**
 * The one place storage backends are chosen: every backend some artifact type is configured to
 * use. Registry credentials (registryCredentials): the run's service account's push secrets first
 * (as Chains; needs the optional per-namespace RBAC in deploy/), then the observer's own docker
 * config, but only where policy/credential-choice.ts allows it.
 */
export function backendsFromConfig(deps: BackendDeps): Map<BackendName, Destination> {
  const { config } = deps;
  const wanted = new Set<BackendName>([
    ...config.taskrun.storage,
    ...config.pipelinerun.storage,
    ...config.oci.storage,
  ]);
  const backends = new Map<BackendName, Destination>();
  for (const name of [...wanted].sort()) backends.set(name, create(name, deps));
  return backends;
}

function create(name: BackendName, deps: BackendDeps): Destination {
  switch (name) {
    case 'tekton':
      return new TektonRunMarker();
    case 'oci': {
      const { storageOci } = deps.config;
      return new OciBackend({
        logger: deps.logger,
        clients: deps.ociClients ?? ociClients(deps),
        repositoryOverride: storageOci.repository,
        encoding: storageOci.encoding,
        metrics: deps.metrics,
        ...(deps.verifies ? { verifies: deps.verifies } : {}),
      });
    }
  }
}

/**
 * The registry clients of every registry request the observer makes (storing, and checking that
 * subjects exist): one host policy, one connection pool and one circuit breaker per host.
 */
export function ociClients(deps: BackendDeps): OciClients {
  return new OciClients({
    credentials: registryCredentials(deps),
    insecure: insecureRegistries(deps.config),
    metrics: deps.metrics,
    ...registryNetwork(deps.config),
  });
}

/** How the observer may reach tenant-chosen registries (host policy, timeout, breaker), from config. */
export function registryNetwork(config: ObserverConfig): RegistryNetworkOptions {
  const { storageOci } = config;
  return {
    allowedPrivate: storageOci.allowedPrivateRegistries,
    requestTimeoutMs: storageOci.requestTimeoutSeconds * 1000,
    maxRequestsPerHost: storageOci.maxRequestsPerHost,
    breaker: {
      failureThreshold: storageOci.circuitBreaker.failures,
      coolDownMs: storageOci.circuitBreaker.coolDownSeconds * 1000,
    },
  };
}

/** Registries reached over plain HTTP: `storage.oci.insecure-registries`, and the override's with `.insecure`. */
export function insecureRegistries(config: ObserverConfig): string[] {
  const { storageOci } = config;
  const overrideHost = storageOci.repository?.split('/')[0];
  return [...storageOci.insecureRegistries, ...(storageOci.insecure && overrideHost ? [overrideHost] : [])];
}

/** The credentials every registry request of the observer uses (storing, and checking subjects). */
export function registryCredentials(deps: BackendDeps): CredentialSource {
  return new PolicyGatedCredentials({
    namespace: new ServiceAccountCredentials({
      core: new CoreApi(deps.connection),
      logger: deps.logger,
    }),
    observer: new DockerConfigCredentials({ config: deps.dockerConfig ?? {} }),
    policy: deps.subjectPolicy ?? UNSET_SUBJECT_POLICY,
    platformRepository: deps.config.storageOci.repository,
    namespaceLabels: deps.namespaceLabels,
  });
}
