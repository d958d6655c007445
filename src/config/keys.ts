/**
 * Every configuration key, described once: its default, how it is parsed (and so what is allowed),
 * where it lands in ObserverConfig (`at`, a dotted path) and what it means. The typed config
 * (schema.ts), the validation (parse.ts) and the table in docs/configuration.md (`npm run
 * docs:config`) all come from this table; adding a key is adding a row.
 *
 * Key names are Tekton Chains' `chains-config` names where Chains has the setting, with Chains'
 * meaning (tektoncd/chains pkg/config/config.go); "ours:" marks keys Chains does not have.
 */
import {
  backends,
  bool,
  formatName,
  int,
  list,
  nonEmptyList,
  oneOf,
  optional,
  type Parser,
  postgresUrl,
  signer,
  subjectPolicy,
  text,
  transparency,
  url,
} from './parsers.ts';

export interface ConfigRow<K extends string = string, A extends string = string, T = unknown> {
  key: K;
  /** dotted path in ObserverConfig */
  at: A;
  /** the value used when the key is not set ("" = unset) */
  default: string;
  parse: Parser<T>;
  /** meaning, one line of Markdown */
  doc: string;
  /** the default as the doc shows it, when the raw default does not say it well */
  shownDefault?: string;
}

const row = <const K extends string, const A extends string, T>(r: ConfigRow<K, A, T>): ConfigRow<K, A, T> =>
  r;

const FORMATS =
  "`slsa/v1.0`, `slsa/v0.2`; Chains' `in-toto`, `slsa/v1` (= v0.2), `slsa/v2alpha3`, `slsa/v2alpha4` (= v1.0)";

export const CONFIG_ROWS = [
  row({
    key: 'artifacts.taskrun.format',
    at: 'taskrun.format',
    default: 'slsa/v1.0',
    parse: formatName(FORMATS),
    doc: 'TaskRun provenance format',
  }),
  row({
    key: 'artifacts.taskrun.storage',
    at: 'taskrun.storage',
    default: 'tekton,oci',
    parse: backends,
    doc: 'where TaskRun provenance goes',
  }),
  row({
    key: 'artifacts.taskrun.signer',
    at: 'taskrun.signer',
    default: 'x509',
    parse: signer,
    doc: '`none` disables TaskRun provenance (as Chains)',
  }),
  row({
    key: 'artifacts.pipelinerun.format',
    at: 'pipelinerun.format',
    default: 'slsa/v1.0',
    parse: formatName('as TaskRun'),
    doc: 'PipelineRun provenance format (Konflux: `in-toto`)',
  }),
  row({
    key: 'artifacts.pipelinerun.storage',
    at: 'pipelinerun.storage',
    default: 'tekton,oci',
    parse: backends,
    doc: 'where PipelineRun provenance goes',
  }),
  row({
    key: 'artifacts.pipelinerun.signer',
    at: 'pipelinerun.signer',
    default: 'x509',
    parse: signer,
    doc: '`none` disables PipelineRun provenance',
  }),
  row({
    key: 'artifacts.pipelinerun.enable-deep-inspection',
    at: 'pipelinerun.deepInspection',
    default: 'false',
    parse: bool,
    doc: 'child TaskRun results become subjects and inputs',
  }),
  row({
    key: 'artifacts.pipelinerun.child-wait-seconds',
    at: 'pipelinerun.childWaitSeconds',
    default: '600',
    parse: int(0, 86_400),
    doc: 'ours: how long after a PipelineRun completes to wait for unfinished children before attesting what is known',
  }),
  row({
    key: 'artifacts.oci.format',
    at: 'oci.format',
    default: 'simplesigning',
    parse: oneOf(['simplesigning']),
    doc: 'image signature format',
  }),
  row({
    key: 'artifacts.oci.storage',
    at: 'oci.storage',
    default: 'oci',
    parse: backends,
    doc: 'where `.sig` image signatures go (images TaskRuns built)',
  }),
  row({
    key: 'artifacts.oci.signer',
    at: 'oci.signer',
    default: 'x509',
    parse: signer,
    doc: '`none` disables image signatures',
  }),
  row({
    key: 'storage.oci.repository',
    at: 'storageOci.repository',
    default: '',
    parse: optional('`host/repo`'),
    doc: "attestations and signatures go to this repository instead of the image's",
  }),
  row({
    key: 'storage.oci.repository.insecure',
    at: 'storageOci.insecure',
    default: 'false',
    parse: bool,
    doc: "plain HTTP for the override repository's registry",
  }),
  row({
    key: 'storage.oci.insecure-registries',
    at: 'storageOci.insecureRegistries',
    default: '',
    parse: list('comma list of `host:port`'),
    doc: 'ours: registries reached over plain HTTP (local and test registries)',
  }),
  row({
    key: 'storage.oci.encoding-format',
    at: 'storageOci.encoding',
    default: 'dsse',
    parse: oneOf(['dsse', 'sigstore-bundle']),
    doc: 'cosign tag layout, or OCI 1.1 referrers with Sigstore bundles (with the `sha256-<hex>` referrers-tag fallback)',
  }),
  row({
    key: 'transparency.enabled',
    at: 'transparency.mode',
    default: 'false',
    parse: transparency,
    doc: 'Rekor upload; `manual` only for runs annotated `chains.tekton.dev/transparency-upload: "true"`',
  }),
  row({
    key: 'transparency.url',
    at: 'transparency.url',
    default: 'https://rekor.sigstore.dev',
    parse: url(),
    doc: 'the Rekor server',
  }),
  row({
    key: 'signers.x509.fulcio.enabled',
    at: 'fulcio.enabled',
    default: 'false',
    parse: bool,
    doc: 'keyless signing (docs/keys.md)',
  }),
  row({
    key: 'signers.x509.fulcio.address',
    at: 'fulcio.address',
    default: 'https://fulcio.sigstore.dev',
    parse: url(),
    doc: 'the Fulcio server',
  }),
  row({
    key: 'signers.x509.fulcio.issuer',
    at: 'fulcio.issuer',
    default: 'https://oauth2.sigstore.dev/auth',
    parse: url(),
    doc: 'the OIDC issuer',
  }),
  row({
    key: 'signers.x509.fulcio.provider',
    at: 'fulcio.provider',
    default: '',
    parse: optional(),
    doc: 'the OIDC provider',
  }),
  row({
    key: 'signers.x509.identity.token.file',
    at: 'fulcio.tokenFile',
    default: '',
    parse: optional('path'),
    doc: 'OIDC token file (a projected service-account token)',
  }),
  row({
    key: 'builder.id',
    at: 'builderId',
    default: 'https://tekton.dev/chains/v2',
    parse: url('URI'),
    doc: "`builder.id` in every statement (Conforma's `allowed_builder_ids`)",
  }),
  row({
    key: 'builddefinition.buildtype',
    at: 'buildType',
    default: 'https://tekton.dev/chains/v2/slsa',
    parse: oneOf(
      ['https://tekton.dev/chains/v2/slsa', 'https://tekton.dev/chains/v2/slsa-tekton'],
      'that or `…/slsa-tekton`',
    ),
    doc: 'SLSA v1.0 buildType',
  }),
  row({
    key: 'filter.managed-by',
    at: 'managedBy',
    default: '',
    parse: list(),
    doc: "extra `spec.managedBy` values to attest besides Tekton's",
  }),
  row({
    key: 'observer.namespaces',
    at: 'namespaces',
    default: '',
    shownDefault: 'unset (all)',
    parse: list(),
    doc: "ours: watch only these namespaces (Chains' `--namespace` flag)",
  }),
  row({
    key: 'signing.secret.name',
    at: 'signingSecret.name',
    default: 'signing-secrets',
    parse: text(),
    doc: "ours: the Secret holding the keys, in the observer's namespace (`POD_NAMESPACE`, default `provenance-observer`)",
  }),
  row({
    key: 'signing.secret.poll-seconds',
    at: 'signingSecret.pollSeconds',
    default: '30',
    parse: int(1, 3600),
    doc: 'ours: how often the Secret is re-read; a changed Secret takes effect without a restart',
  }),
  row({
    key: 'index.path',
    at: 'indexPath',
    default: '.local/index.db',
    parse: text('path or `:memory:`'),
    doc: 'ours: the SQLite index of record (back it with a PersistentVolume); unused when `index.url` is set',
  }),
  row({
    key: 'index.url',
    at: 'indexUrl',
    default: '',
    parse: postgresUrl,
    doc: 'ours: a PostgreSQL index of record shared by replicas, instead of SQLite; the password may come from `PGPASSWORD` (a Secret) rather than the URL',
  }),
  row({
    key: 'index.tls-mode',
    at: 'indexTls.mode',
    default: 'require',
    parse: oneOf(['disable', 'require', 'verify-full']),
    doc: "ours: TLS to PostgreSQL, as libpq's sslmode: `require` encrypts, `verify-full` also checks the certificate and host name",
  }),
  row({
    key: 'index.tls-ca-file',
    at: 'indexTls.caFile',
    default: '',
    parse: optional('path to a PEM file'),
    doc: 'ours: CA certificates that verify the PostgreSQL server (`verify-full`); default the system CAs',
  }),
  row({
    key: 'index.retention-days',
    at: 'indexRetentionDays',
    default: '90',
    parse: int(1, 36_500),
    doc: 'ours: records of runs deleted from the cluster longer ago than this are pruned from the index',
  }),
  row({
    key: 'index.namespace-payload-cap-bytes',
    at: 'indexNamespacePayloadCapBytes',
    default: '0',
    parse: int(0, Number.MAX_SAFE_INTEGER),
    doc: 'ours: most bytes of stored envelopes per namespace; a run past it is not attested and says why; 0 = no cap',
  }),
  row({
    key: 'http.host',
    at: 'http.host',
    default: '0.0.0.0',
    parse: text(),
    doc: 'ours: address for `/livez`, `/readyz` and `/metrics` (plain HTTP)',
  }),
  row({
    key: 'http.port',
    at: 'http.port',
    default: '8080',
    parse: int(0, 65_535),
    doc: 'ours: port for `/livez`, `/readyz` and `/metrics` (plain HTTP; no API routes)',
  }),
  row({
    key: 'api.host',
    at: 'api.host',
    default: '0.0.0.0',
    parse: text(),
    doc: 'ours: address for the lookup API `/api/v1` (TLS only)',
  }),
  row({
    key: 'api.port',
    at: 'api.port',
    default: '8443',
    parse: int(0, 65_535),
    doc: 'ours: port for the lookup API (TLS only; plain HTTP fails the handshake)',
  }),
  row({
    key: 'api.tls-cert-file',
    at: 'api.tlsCertFile',
    default: '',
    parse: optional('path'),
    doc: 'ours: PEM certificate chain (leaf first) of the lookup API, re-read when it changes',
    shownDefault: 'unset (the API is not served)',
  }),
  row({
    key: 'api.tls-key-file',
    at: 'api.tlsKeyFile',
    default: '',
    parse: optional('path'),
    doc: 'ours: PEM private key of that certificate; required with `api.tls-cert-file`',
  }),
  row({
    key: 'api.tls-reload-seconds',
    at: 'api.tlsReloadSeconds',
    default: '10',
    parse: int(1, 3600),
    doc: 'ours: how often the certificate and key files are checked for a change',
  }),
  row({
    key: 'api.audiences',
    at: 'api.audiences',
    default: 'provenance-observer',
    parse: nonEmptyList('comma list, at least one'),
    doc: 'ours: TokenReview audiences; callers use `kubectl create token <sa> --audience provenance-observer`',
  }),
  row({
    key: 'api.cursor-key-file',
    at: 'api.cursorKeyFile',
    default: '',
    parse: optional('path'),
    doc: 'ours: file of at least 32 secret bytes that seals page cursors; give replicas the same one',
    shownDefault: 'unset (a random key per process)',
  }),
  row({
    key: 'controller.workers',
    at: 'workers',
    default: '4',
    parse: int(1, 256),
    doc: 'ours: concurrent reconciles (Chains: `--threads-per-controller`)',
  }),
  row({
    key: 'attestation.max-attempts',
    at: 'maxAttempts',
    default: '5',
    parse: int(1, 100),
    doc: 'ours: failed attempts before `chains.tekton.dev/signed: failed` (Chains: 3 retries, 5 attempts in practice)',
  }),
  row({
    key: 'attestation.retry-base-ms',
    at: 'retryBaseMs',
    default: '1000',
    parse: int(1, 3_600_000),
    doc: 'ours: first retry delay of a failed attempt; each further one doubles (equal jitter, capped at 5 min); kept in the index so a restart keeps the spacing',
  }),
  row({
    key: 'attestation.attempt-timeout-seconds',
    at: 'attemptTimeoutSeconds',
    default: '120',
    parse: int(1, 86_400),
    doc: 'ours: deadline of one attestation attempt; past it the attempt is abandoned as a retryable failure and its worker freed',
  }),
  row({
    key: 'attestation.subject-policy',
    at: 'subjectPolicy',
    default: '',
    parse: subjectPolicy,
    doc: `ours: per namespace (name or label selector), the registry/repository patterns its runs may name as subjects (\`\${namespace}\`, \`*\`, \`**\`); others are skipped (\`repository_not_allowed\`). Unset: anything, as Chains, with a start-up warning`,
  }),
  row({
    key: 'attestation.require-subject-exists',
    at: 'requireSubjectExists',
    default: 'true',
    parse: bool,
    doc: 'ours: HEAD each image subject by digest before signing; 404 skips it (`subject_not_found`), 401/403 too (`subject_unreadable`), a transient failure retries the attempt',
  }),
  row({
    key: 'attestation.execution-check',
    at: 'executionCheck',
    default: 'record',
    parse: oneOf(['off', 'record', 'enforce']),
    doc: "ours: compare a TaskRun's step/sidecar images with its Pod's; `record` writes the outcome (`executionCheck`) into the provenance and an Event on mismatch, `enforce` also refuses to sign a mismatch (`signed: failed`)",
  }),
  row({
    key: 'log.level',
    at: 'logLevel',
    default: 'info',
    parse: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], '`trace`…`fatal`'),
    doc: 'log verbosity',
  }),
];

/** Keys Chains has that we do not implement yet; setting one is an error, not a silent no-op. */
export const UNSUPPORTED_KEYS: readonly string[] = [
  'storage.gcs.bucket',
  'storage.docdb.url',
  'storage.grafeas.projectid',
  'storage.archivista.url',
  'signers.kms.kmsref',
];

/** Keys Chains has that we accept and that have no effect here. */
export const IGNORED_KEYS: readonly string[] = [
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
