import { BoundedCache } from '../cache/index.ts';
import { allDownUntil, asObserverError, ObserverError, tenantMessage } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import {
  type Addition,
  ANNOTATION_PAYLOAD_DIGEST,
  type AppendResult,
  appendToTag,
  attestationLayer,
  cosignTagDocument,
  type Descriptor,
  digestTag,
  entryKey,
  KeyedBatcher,
  type LayerBlob,
  type RegistryClient,
  referrersIndexDocument,
  sha256Digest,
  signatureLayer,
  splitRepository,
  type TagDocument,
} from '../oci/index.ts';
import { describeRun } from '../tekton/index.ts';
import type { ImageRef, SignedArtifact, StorageBackend, StoreRequest, StoreResult } from './backend.ts';
import type { CredentialSource } from './credentials.ts';
import { storeBundle } from './oci-bundle.ts';
import { OciClients, type RegistryNetworkOptions } from './oci-clients.ts';
import { type ForeignLayerReason, layerStoredAs, type SignatureVerifier } from './oci-stored-payload.ts';

type Provenance = Extract<SignedArtifact, { type: 'provenance' }>;

export interface OciBackendOptions {
  logger: Logger;
  /** per run and registry host; default: anonymous */
  credentials?: CredentialSource;
  metrics?: Pick<Metrics, 'registryRequests'> & Partial<Pick<Metrics, 'foreignLayers'>>;
  /**
   * `storage.oci.repository`: `host/repo` that receives `.att`/`.sig` instead of each image's own
   * repository (the tag is still `sha256-<image hex>`). Ignored in sigstore-bundle mode (a referrer
   * must live beside its subject), as Chains does, with a warning. Default: the image's repository.
   */
  repositoryOverride?: string;
  /** `storage.oci.repository.insecure`: true = plain HTTP everywhere, or the hosts that use it. Default false. */
  insecure?: boolean | string[];
  /** `storage.oci.encoding-format`; default 'dsse' (cosign tag layout) */
  encoding?: 'dsse' | 'sigstore-bundle';
  /**
   * bundle mode: the Sigstore bundle JSON bytes for an attestation (pass one that adds the tlog
   * entry when there is one). Default: signing's toSigstoreBundle with the certificate, else the
   * envelope's keyid as public-key hint, and no tlog entry.
   */
  toBundle?: (artifact: Provenance) => Uint8Array;
  /**
   * Whether a signature verifies with a key the observer publishes (current and retired keys; the
   * composition root passes the key ring). With it, storing is idempotent by payload: an entry
   * already at the tag that holds the same payload with a signature this accepts counts as stored,
   * so a re-signed retry (ECDSA signatures differ each time), a restart on an empty index or two
   * replicas racing add no second layer. Without it only the identical entry counts.
   */
  verifies?: SignatureVerifier;
  /** passed to appendToTag; defaults there */
  settleMs?: number;
  maxAttempts?: number;
  fetch?: typeof fetch;
  /** host policy, request timeout and circuit breaker for tenant-chosen registries (OciClients) */
  network?: RegistryNetworkOptions;
  /**
   * the registry clients to use, shared with the subject-existence check so that one host has one
   * connection pool and one circuit breaker; default: made here from credentials, insecure, network
   */
  clients?: OciClients;
}

/**
 * Stores signed artifacts in OCI registries the way cosign and Tekton Chains do: attestations as
 * layers of `sha256-<hex>.att` on every image subject, image signatures on `sha256-<hex>.sig`, or in
 * sigstore-bundle mode as OCI 1.1 referrers (with the referrers-tag fallback). Appends are
 * serialised per tag in-process and verified across processes (appendToTag). Never throws.
 */
export class OciBackend implements StorageBackend {
  readonly name = 'oci' as const;
  readonly #o: OciBackendOptions;
  /** layers already reported as foreign (reportForeignLayer): each is reported once, not at every run */
  readonly #reported = new BoundedCache<true>({ maxEntries: 10_000 });
  readonly #clients: OciClients;
  readonly #batcher = new KeyedBatcher<Addition, AppendResult>();

  constructor(options: OciBackendOptions) {
    this.#o = options;
    this.#clients =
      options.clients ??
      new OciClients({
        credentials: options.credentials,
        insecure: options.insecure ?? false,
        metrics: options.metrics,
        fetch: options.fetch,
        ...options.network,
      });
    if (options.repositoryOverride) splitRepository(options.repositoryOverride);
  }

  async store(request: StoreRequest): Promise<StoreResult> {
    const { run, artifact } = request;
    const what = `storing ${artifact.type} of ${describeRun(run)} in OCI`;
    const targets: readonly ImageRef[] = artifact.type === 'provenance' ? artifact.images : [artifact.image];
    const outcomes = await Promise.all(
      targets.map((image) =>
        this.#storeOne(request, image).then(
          (location) => ({ image, location }),
          (err: unknown) => ({
            image,
            error: asObserverError(err, { code: 'storage', retryable: true, context: what }),
          }),
        ),
      ),
    );
    const failed = outcomes.filter((o) => 'error' in o);
    if (failed.length === 0)
      return {
        backend: 'oci',
        ok: true,
        locations: outcomes.map((o) => ('location' in o ? o.location : '')),
      };
    const detail = failed.map(
      (f) => `${f.image.repository}@${f.image.digest}: ${'error' in f ? f.error.message : ''}`,
    );
    const error = new ObserverError(
      `${what}: ${failed.length} of ${targets.length} image(s) failed: ${detail.join('; ')}`,
      {
        code: 'storage',
        publicMessage: `${what}: ${failed.length} of ${targets.length} image(s) failed: ${failed.map((f) => `${f.image.repository}@${f.image.digest}: ${'error' in f ? tenantMessage(f.error) : ''}`).join('; ')}`,
        retryable: failed.some((f) => 'error' in f && f.error.retryable),
        cause: 'error' in failed[0] ? failed[0].error : undefined,
        // every failed image's registry is down: retry when the last of them may answer again
        notBefore: allDownUntil(failed.map((f) => ('error' in f ? f.error : undefined))),
      },
    );
    return { backend: 'oci', ok: false, error };
  }

  async #storeOne({ run, artifact, context }: StoreRequest, image: ImageRef): Promise<string> {
    if (artifact.type === 'provenance' && this.#o.encoding === 'sigstore-bundle')
      return this.#storeBundle(run, artifact, image, context);
    const override = this.#o.repositoryOverride;
    const { registry, repository } = splitRepository(override ?? image.repository);
    const client = await this.#clients.client(run, registry, repository, context);
    const suffix = artifact.type === 'provenance' ? '.att' : '.sig';
    const tag = digestTag(image.digest, suffix);
    const payloadDigest = sha256Digest(artifact.payload);
    const layer: LayerBlob =
      artifact.type === 'provenance'
        ? attestationLayer(artifact.envelopeBytes, { ...artifact, payloadDigest })
        : signatureLayer(artifact.payload, artifact.signature, { ...artifact, payloadDigest });
    const verifies = this.#o.verifies;
    const report = this.#reporter(`${registry}/${repository}:${tag}`);
    const storedAs = verifies && layerStoredAs({ client, repository, verifies, report }, artifact);
    await this.#append(
      { client, repository, tag, document: cosignTagDocument, context },
      {
        descriptor: layer.descriptor,
        blob: layer.bytes,
        ...(storedAs ? { storedAs } : {}),
        // the platform's and a tenant's `.sig` of one payload are two entries, never merged
        ...(artifact.type === 'image-signature' && artifact.signedBy
          ? { sameAs: `${payloadDigest} ${artifact.signedBy}` }
          : {}),
      },
    );
    return `${registry}/${repository}:${tag}`;
  }

  async #storeBundle(
    run: StoreRequest['run'],
    artifact: Provenance,
    image: ImageRef,
    context: AttemptContext | undefined,
  ): Promise<string> {
    if (this.#o.repositoryOverride) {
      this.#o.logger.warn(
        { kind: run.kind, namespace: run.namespace, name: run.name },
        'storage.oci.repository is ignored in sigstore-bundle mode',
      );
    }
    const { registry, repository } = splitRepository(image.repository);
    const client = await this.#clients.client(run, registry, repository, context);
    const digest = await storeBundle({
      client,
      repository,
      image,
      artifact,
      toBundle: this.#o.toBundle,
      verifies: this.#o.verifies,
      report: this.#reporter(`${registry}/${repository}`),
      appendIndex: (addition) =>
        this.#append(
          { client, repository, tag: digestTag(image.digest), document: referrersIndexDocument, context },
          addition,
        ),
      ...(context ? { context } : {}),
    });
    return `${registry}/${repository}@${digest}`;
  }

  /**
   * One writer per tag in this process; concurrent additions to a tag with the same credentials go
   * out as one batch, one addition per payload (two signatures of one payload in a batch are one
   * entry). The batch's group is the client, one per registry and credentials (OciClients): with
   * `storage.oci.repository` every namespace appends to the same tags, and a batch must never push
   * one namespace's addition with another's credentials (nor fail it with their denial).
   */
  #append(
    at: {
      client: RegistryClient;
      repository: string;
      tag: string;
      document: TagDocument;
      context: AttemptContext | undefined;
    },
    addition: Addition,
  ): Promise<AppendResult> {
    const { client, repository, tag, document } = at;
    const key = `${client.registry}/${repository}:${tag}`;
    const submitted = { group: client, ...(at.context ? { context: at.context } : {}) };
    return this.#batcher.submit(
      key,
      addition,
      (items, context) => {
        const seen = new Set<string>();
        const unique = items.filter((i) => {
          const holds =
            i.sameAs ?? i.descriptor.annotations?.[ANNOTATION_PAYLOAD_DIGEST] ?? entryKey(i.descriptor);
          return !seen.has(holds) && seen.add(holds);
        });
        return appendToTag({
          client,
          repository,
          tag,
          document,
          additions: unique,
          settleMs: this.#o.settleMs,
          maxAttempts: this.#o.maxAttempts,
          context,
        });
      },
      submitted,
    );
  }

  /**
   * Reports an entry of our media type left unread (see oci-stored-payload.ts): a warning naming the
   * tag and the layer, and provenance_observer_foreign_layers_total, once per layer digest, so a
   * planted layer is reported once, not at every run that appends beside it.
   */
  #reporter(where: string) {
    return (entry: Descriptor, reason: ForeignLayerReason) => {
      if (this.#reported.get(entry.digest)) return;
      this.#reported.set(entry.digest, true);
      this.#o.metrics?.foreignLayers?.inc({ reason });
      this.#o.logger.warn(
        { at: where, layer: entry.digest, size: entry.size, reason },
        'an entry at the tag is not ours to read; left alone (not fetched, not parsed)',
      );
    };
  }
}
