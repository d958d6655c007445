import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AttestationChecks } from '../../attest/index.ts';
import type { FaultHook, ObserverConfig } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { type AttestationIndex, type IndexSeal, indexFromOptions } from '../../index/index.ts';
import { type KubeConnection, type NamespaceLabels, PodReader } from '../../kube/index.ts';
import type { Logger } from '../../observability/index.ts';
import { type PodEvidence, podEvidence, SubjectExistenceCheck } from '../../policy/index.ts';
import type { BackendDeps, OciClients } from '../../storage/index.ts';
import type { RunKey } from '../../tekton/index.ts';

/** What the configuration leaves open, said once at start. */
export function warnAtStart(config: ObserverConfig, logger: Logger): void {
  if (!config.subjectPolicy.configured)
    logger.warn(
      "attestation.subject-policy is not set: any run may name any well-formed subject (any repository, any pkg:/https: URI or bare name) and get it signed (Tekton Chains behaviour; OCI subjects must still exist); the observer's own registry credentials serve storage.oci.repository only",
    );
  warnAboutDisabledArtifacts(config, logger);
}

/**
 * Subject policy, subject existence (HEAD through storage's own clients: the same credentials, the
 * namespace's and the observer's own only where the policy allows, host policy and breakers) and
 * the execution check.
 */
export function attestationChecks(
  deps: BackendDeps,
  clients: OciClients,
  namespaceLabels: NamespaceLabels,
  index: Pick<AttestationIndex, 'findRunEvidence'>,
): AttestationChecks {
  const { config, connection } = deps;
  const existence = new SubjectExistenceCheck({
    // registry and path of the canonical reference (model/subject-ref.ts), never a split of raw text
    clientFor: (run, image, context) => clients.client(run, image.registry, image.path, context),
  });
  return new AttestationChecks({
    policy: config.subjectPolicy,
    executionCheck: config.executionCheck,
    existence: config.requireSubjectExists ? existence : undefined,
    pods: config.executionCheck === 'off' ? undefined : new PodReader({ connection }),
    evidence: (uid, run) => index.findRunEvidence(uid, run),
    namespaceLabels: (ns, context) => namespaceLabels.get(ns, context),
  });
}

/** A finished TaskRun's Pod evidence, read now (the Pod its status names; none without a name). */
export function podEvidenceReader(
  connection: KubeConnection,
): (key: RunKey, object: Record<string, unknown>) => Promise<PodEvidence> {
  const pods = new PodReader({ connection });
  return async (key, object) => {
    const podName = (object as { status?: { podName?: string } }).status?.podName ?? '';
    const pod = podName ? await pods.get(key.namespace, podName) : undefined;
    return podEvidence(podName, pod, new Date());
  };
}

/** Chains drops an artifact type silently when its signer is `none` or its storage is empty; we say so. */
export function warnAboutDisabledArtifacts(config: ObserverConfig, logger: Logger): void {
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

/** PostgreSQL when `index.url` is set, else the SQLite file at `index.path` (its directory made). */
export function openIndex(
  config: ObserverConfig,
  logger: Logger,
  seal?: IndexSeal,
): Promise<AttestationIndex> {
  if (!config.indexUrl && config.indexPath !== ':memory:')
    mkdirSync(dirname(config.indexPath), { recursive: true });
  const { caFile, mode } = config.indexTls;
  const ca = caFile === undefined ? undefined : readCa(caFile);
  return indexFromOptions({
    url: config.indexUrl,
    path: config.indexPath,
    tls: { mode, ca },
    logger,
    ...(seal ? { seal } : {}),
    ...(config.indexVolumeBytes > 0 ? { maxBytes: config.indexVolumeBytes } : {}),
  });
}

/** The PEM named by `index.tls-ca-file`; a config error naming the key when unreadable. */
export function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ObserverError(
      `config key "index.tls-ca-file": cannot read ${file}: ${(err as Error).message}`,
      {
        code: 'config_invalid',
        retryable: false,
        cause: err,
      },
    );
  }
}

/** The fault hook's action after a run's attestation is stored (tests only; none by default). */
export function faultAfterStored(fault: FaultHook | undefined, logger: Logger): (() => void) | undefined {
  switch (fault) {
    case undefined:
    case 'stall-signing':
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
