import { ObserverError } from '../errors.ts';
import type { Metrics } from '../observability/index.ts';
import { type Challenge, parseChallenge, TokenCache, type TokenResponse } from './auth-challenge.ts';
import type { RegistryCredentials } from './credentials.ts';
import { isSha256Digest, sha256Digest } from './digest.ts';
import { type ImageIndex, parseImageIndex } from './manifest.ts';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.ts';
import { networkError, statusError } from './registry-error.ts';

export interface RegistryClientOptions {
  /** registry `host[:port]` */
  registry: string;
  /** plain HTTP instead of HTTPS; default false */
  insecure?: boolean;
  /** default: anonymous */
  credentials?: RegistryCredentials;
  /** counts every request in registryRequests{method,status}; status 0 = no response */
  metrics?: Pick<Metrics, 'registryRequests'>;
  /** default: global fetch */
  fetch?: typeof fetch;
  /** default: Date.now (token expiry) */
  now?: () => number;
  /** per request; default 30 s */
  timeoutMs?: number;
}

/** A manifest as stored: the exact bytes, their media type and sha256 digest, and the ETag if sent. */
export interface ManifestResponse {
  bytes: Uint8Array;
  mediaType: string;
  digest: string;
  etag?: string;
}

type Actions = 'pull' | 'pull,push';

interface Call {
  /** for messages: "GET manifest", "upload blob" … */
  operation: string;
  repository: string;
  actions: Actions;
}

/**
 * A thin OCI distribution client over fetch for one registry host: the /v2/ auth challenge (Basic,
 * or Bearer tokens fetched with Basic credentials or an identity token, cached per scope until
 * expiry), blobs, manifests, tags and referrers. Errors are ObserverError('registry') naming the
 * operation and `registry/repository`. https://github.com/opencontainers/distribution-spec
 */
export class RegistryClient {
  readonly registry: string;
  readonly #base: string;
  readonly #credentials?: RegistryCredentials;
  readonly #metrics?: Pick<Metrics, 'registryRequests'>;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #tokens: TokenCache;
  /** set once the registry answered with a Basic challenge */
  #basic = false;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.#base = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.#credentials = options.credentials;
    this.#metrics = options.metrics;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#tokens = new TokenCache({ now: options.now });
  }

  /** True when the blob exists in the repository. */
  async blobExists(repository: string, digest: string): Promise<boolean> {
    const call: Call = { operation: 'HEAD blob', repository, actions: 'pull' };
    const res = await this.#send(call, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(call.operation, this.#target(repository), res);
  }

  /** The blob's bytes, unverified: callers that care compare sha256Digest(bytes) with the digest. */
  async getBlob(repository: string, digest: string): Promise<Uint8Array> {
    const call: Call = { operation: `GET blob ${digest}`, repository, actions: 'pull' };
    const res = await this.#send(call, `/v2/${repository}/blobs/${digest}`, { method: 'GET' });
    if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Uploads the bytes unless the blob is already there (monolithic POST then PUT); returns the digest. */
  async uploadBlob(repository: string, bytes: Uint8Array): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.blobExists(repository, digest)) return digest;
    const call: Call = { operation: 'upload blob', repository, actions: 'pull,push' };
    const started = await this.#send(call, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location)
      throw await statusError(call.operation, this.#target(repository), started);
    await started.body?.cancel();
    // Location may be relative or absolute and already carries query state (`_state=…`).
    const url = new URL(location, this.#base);
    url.searchParams.set('digest', digest);
    const headers = { 'content-type': 'application/octet-stream' };
    const done = await this.#send(call, url.href, { method: 'PUT', headers, body: bytes });
    if (done.status !== 201) throw await statusError(call.operation, this.#target(repository), done);
    await done.body?.cancel();
    return digest;
  }

  /** The manifest at a tag or digest, or undefined when there is none (404). */
  async getManifest(repository: string, reference: string): Promise<ManifestResponse | undefined> {
    const call: Call = { operation: `GET manifest ${reference}`, repository, actions: 'pull' };
    const headers = { accept: MANIFEST_ACCEPT };
    const res = await this.#send(call, `/v2/${repository}/manifests/${reference}`, {
      method: 'GET',
      headers,
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    if (isSha256Digest(reference) && digest !== reference) {
      throw new ObserverError(`${call.operation} ${this.#target(repository)}: content digest is ${digest}`, {
        code: 'registry',
        retryable: false,
      });
    }
    const etag = res.headers.get('etag') ?? undefined;
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    return { bytes, mediaType, digest, ...(etag ? { etag } : {}) };
  }

  /**
   * HEAD of a manifest (by digest or tag): the status when it is a definite answer (200 found, 404
   * not found, 401/403 refused after the auth challenge); other statuses throw (5xx retryable).
   */
  async headManifest(repository: string, reference: string): Promise<200 | 401 | 403 | 404> {
    const call: Call = { operation: `HEAD manifest ${reference}`, repository, actions: 'pull' };
    const headers = { accept: MANIFEST_ACCEPT };
    const res = await this.#send(call, `/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers,
    });
    await res.body?.cancel();
    if (res.status === 200 || res.status === 401 || res.status === 403 || res.status === 404)
      return res.status;
    throw await statusError(call.operation, this.#target(repository), res);
  }

  /**
   * PUTs the exact bytes; returns their digest and the `OCI-Subject` header (set by registries with
   * the referrers API). With `ifMatch`, a registry that honours it answers 412 to a stale write
   * (a retryable error); distribution 2.8 ignores it.
   */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: { ifMatch?: string } = {},
  ): Promise<{ digest: string; ociSubject?: string }> {
    const call: Call = { operation: `PUT manifest ${reference}`, repository, actions: 'pull,push' };
    const headers: Record<string, string> = { 'content-type': mediaType };
    if (options.ifMatch) headers['if-match'] = options.ifMatch;
    const res = await this.#send(call, `/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      headers,
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200)
      throw await statusError(call.operation, this.#target(repository), res);
    await res.body?.cancel();
    const ociSubject = res.headers.get('oci-subject') ?? undefined;
    return { digest: sha256Digest(bytes), ...(ociSubject ? { ociSubject } : {}) };
  }

  /** All tags of the repository (following `Link` pagination); [] when the repository is unknown. */
  async listTags(repository: string): Promise<string[]> {
    const call: Call = { operation: 'list tags', repository, actions: 'pull' };
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list`;
    while (path) {
      const res = await this.#send(call, path, { method: 'GET' });
      if (res.status === 404) return tags;
      if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
      tags.push(...(((await res.json()) as { tags?: string[] | null }).tags ?? []));
      path = /<([^>]+)>;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
    }
    return tags;
  }

  /**
   * The OCI 1.1 referrers of a digest, or undefined when the registry has no referrers API
   * (404, as on distribution 2.8); then callers use the `sha256-<hex>` tag fallback.
   */
  async getReferrers(
    repository: string,
    digest: string,
    artifactType?: string,
  ): Promise<ImageIndex | undefined> {
    const call: Call = { operation: `GET referrers ${digest}`, repository, actions: 'pull' };
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.#send(call, `/v2/${repository}/referrers/${digest}${query}`, {
      method: 'GET',
      headers: { accept: OCI_INDEX },
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
    return parseImageIndex(
      new Uint8Array(await res.arrayBuffer()),
      `referrers of ${this.#target(repository)}@${digest}`,
    );
  }

  #target(repository: string): string {
    return `${this.registry}/${repository}`;
  }

  /** One request with auth: answers a 401 challenge once, then returns whatever comes back. */
  async #send(call: Call, pathOrUrl: string, init: RequestInit): Promise<Response> {
    const url = new URL(pathOrUrl, this.#base);
    const scope = `repository:${call.repository}:${call.actions}`;
    let authorization = this.#cachedAuthorization(scope, call.repository);
    const first = await this.#fetchOnce(call, url, init, authorization);
    if (first.status !== 401) return first;
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    if (!challenge) return first;
    authorization = await this.#authorize(challenge, scope, call);
    if (!authorization) return first;
    await first.body?.cancel();
    return this.#fetchOnce(call, url, init, authorization);
  }

  #cachedAuthorization(scope: string, repository: string): string | undefined {
    if (this.#basic) return this.#basicHeader();
    const token = this.#tokens.get(scope) ?? this.#tokens.get(`repository:${repository}:pull,push`);
    return token ? `Bearer ${token}` : undefined;
  }

  #basicHeader(): string | undefined {
    const c = this.#credentials;
    if (c?.kind !== 'basic') return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  async #authorize(challenge: Challenge, scope: string, call: Call): Promise<string | undefined> {
    if (challenge.scheme === 'basic') {
      this.#basic = true;
      return this.#basicHeader();
    }
    const token = this.#tokens.put(scope, await this.#fetchToken(challenge, scope, call));
    return token ? `Bearer ${token}` : undefined;
  }

  /** Docker token flow: GET with Basic credentials, or the OAuth2 refresh-token POST for identity tokens. */
  async #fetchToken(
    challenge: Challenge & { scheme: 'bearer' },
    scope: string,
    call: Call,
  ): Promise<TokenResponse> {
    const realm = new URL(challenge.realm);
    const op: Call = { ...call, operation: `token for ${call.operation}` };
    const c = this.#credentials;
    let res: Response;
    if (c?.kind === 'identity-token') {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: c.identityToken,
        scope,
      });
      form.set('client_id', 'provenance-observer');
      if (challenge.service) form.set('service', challenge.service);
      res = await this.#fetchOnce(op, realm, { method: 'POST', body: form }, undefined, true);
    } else {
      if (challenge.service) realm.searchParams.set('service', challenge.service);
      realm.searchParams.set('scope', scope);
      res = await this.#fetchOnce(op, realm, { method: 'GET' }, this.#basicHeader(), true);
    }
    if (res.status !== 200) throw await statusError(op.operation, this.#target(call.repository), res);
    return (await res.json()) as TokenResponse;
  }

  async #fetchOnce(
    call: Call,
    url: URL,
    init: RequestInit,
    authorization?: string,
    anyOrigin = false,
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    // Credentials go to the registry itself (or, for tokens, to its realm), never to a redirect target.
    if (authorization && (anyOrigin || url.origin === new URL(this.#base).origin))
      headers.set('authorization', authorization);
    const method = init.method ?? 'GET';
    try {
      const res = await this.#fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.#timeoutMs) });
      this.#metrics?.registryRequests.inc({ method, status: String(res.status) });
      return res;
    } catch (err) {
      this.#metrics?.registryRequests.inc({ method, status: '0' });
      throw networkError(call.operation, this.#target(call.repository), err);
    }
  }
}
