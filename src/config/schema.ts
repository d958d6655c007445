/**
 * The configuration keys, their defaults and allowed values. Key names are Tekton Chains'
 * `chains-config` names where Chains has the setting (same meaning), and ours otherwise.
 * docs/configuration.md is the table of all of them; keep the two in step.
 */
import type { FormatName } from '../formats/index.ts';

export type SignerKind = 'x509' | 'none';
export type BackendChoice = 'tekton' | 'oci';
export type TransparencyMode = 'off' | 'on' | 'manual';
export type OciEncoding = 'dsse' | 'sigstore-bundle';

export interface ArtifactConfig {
  /** provenance format; `in-toto`/`slsa/v1` mean SLSA v0.2, `slsa/v2alpha3`/`slsa/v2alpha4` SLSA v1.0 */
  format: FormatName;
  /** backends, empty = the artifact type is disabled */
  storage: BackendChoice[];
  /** `none` disables the artifact type (as in Chains), and we warn at start-up */
  signer: SignerKind;
}

export interface ObserverConfig {
  taskrun: ArtifactConfig;
  pipelinerun: ArtifactConfig & {
    deepInspection: boolean /** give up waiting for children after this */;
    childWaitSeconds: number;
  };
  /** image signatures (.sig) for images TaskRuns built; format is always simplesigning */
  oci: { storage: BackendChoice[]; signer: SignerKind };
  storageOci: {
    repository?: string;
    /** plain HTTP for the override repository's registry (Chains' meaning) */
    insecure: boolean;
    /** ours: registries (host:port) reached over plain HTTP, e.g. a local test registry */
    insecureRegistries: string[];
    encoding: OciEncoding;
  };
  transparency: { mode: TransparencyMode; url: string };
  fulcio: { enabled: boolean; address: string; issuer: string; provider?: string; tokenFile?: string };
  builderId: string;
  buildType: string;
  /** extra spec.managedBy values accepted besides empty and tekton.dev/pipeline */
  managedBy: string[];
  /** watch only these namespaces; empty = all */
  namespaces: string[];
  signingSecret: { namespace: string; name: string; pollSeconds: number };
  indexPath: string;
  http: { host: string; port: number };
  workers: number;
  /** failed attempts before signed=failed (Chains: 3 retries, then failed) */
  maxAttempts: number;
  logLevel: string;
}

export const DEFAULTS = {
  'artifacts.taskrun.format': 'slsa/v1.0',
  'artifacts.taskrun.storage': 'tekton,oci',
  'artifacts.taskrun.signer': 'x509',
  'artifacts.pipelinerun.format': 'slsa/v1.0',
  'artifacts.pipelinerun.storage': 'tekton,oci',
  'artifacts.pipelinerun.signer': 'x509',
  'artifacts.pipelinerun.enable-deep-inspection': 'false',
  'artifacts.pipelinerun.child-wait-seconds': '600',
  'artifacts.oci.format': 'simplesigning',
  'artifacts.oci.storage': 'oci',
  'artifacts.oci.signer': 'x509',
  'storage.oci.repository': '',
  'storage.oci.repository.insecure': 'false',
  'storage.oci.encoding-format': 'dsse',
  'storage.oci.insecure-registries': '',
  'transparency.enabled': 'false',
  'transparency.url': 'https://rekor.sigstore.dev',
  'signers.x509.fulcio.enabled': 'false',
  'signers.x509.fulcio.address': 'https://fulcio.sigstore.dev',
  'signers.x509.fulcio.issuer': 'https://oauth2.sigstore.dev/auth',
  'signers.x509.fulcio.provider': '',
  'signers.x509.identity.token.file': '',
  'builder.id': 'https://tekton.dev/chains/v2',
  'builddefinition.buildtype': 'https://tekton.dev/chains/v2/slsa',
  'filter.managed-by': '',
  'observer.namespaces': '',
  'signing.secret.name': 'signing-secrets',
  'signing.secret.poll-seconds': '30',
  'index.path': '.local/index.db',
  'http.host': '0.0.0.0',
  'http.port': '8080',
  'controller.workers': '4',
  'attestation.max-attempts': '5',
  'log.level': 'info',
} as const satisfies Record<string, string>;

export type ConfigKey = keyof typeof DEFAULTS;

/** Keys Chains has that we accept but do not implement yet; setting one is an error, not a silent no-op. */
export const UNSUPPORTED_KEYS = [
  'storage.gcs.bucket',
  'storage.docdb.url',
  'storage.grafeas.projectid',
  'storage.archivista.url',
  'signers.kms.kmsref',
];

/** Keys Chains has whose value we read but that have no effect here (documented). */
export const IGNORED_KEYS = [
  'storage.docdb.mongo-server-url',
  'storage.docdb.mongo-server-url-dir',
  'storage.docdb.mongo-server-url-path',
  'storage.grafeas.noteid',
  'storage.grafeas.notehint',
  'storage.pubsub.provider',
  'storage.pubsub.topic',
  'storage.pubsub.kafka.bootstrap.servers',
  'signers.x509.tuf.mirror.url',
];
