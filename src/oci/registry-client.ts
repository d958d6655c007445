import type { AttemptContext } from '../model/index.ts';
import type { Metrics } from '../observability/index.ts';
import type { RegistryCredentials } from './credentials.ts';
import { isSha256Digest, sha256Digest } from './digest.ts';
import { type Challenge, parseChallenge, TokenCache, type TokenResponse } from './http/auth-challenge.ts';
import { BLOB_LIMIT, discardBody, MANIFEST_LIMIT, SMALL_BODY_LIMIT } from './http/bounded-body.ts';
import type { CircuitBreakers } from './http/circuit-breaker.ts';
import type { HostPolicy } from './http/host-policy.ts';
import { finalUrlOf } from './http/redirects.ts';
import { registryError, statusError } from './http/registry-error.ts';
import { RegistryHttp, type Where } from './http/registry-http.ts';
import type { RegistryFetch, RegistryResponse } from './http/registry-transport.ts';
import { requestToken } from './http/token-flow.ts';
import { type ImageIndex, parseImageIndex } from './manifest.ts';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.ts';

export interface RegistryClientOptions {
  /** registry `host[:port]` */
  registry: string;
  /** plain HTTP instead of HTTPS; default false */
  insecure?: boolean;
  /** default: anonymous */
  credentials?: RegistryCredentials;
  /** counts every request in registryRequests{method,status}; status 0 = no response */
  metrics?: Pick<Metrics, 'registryRequests'>;
  /**
   * Where connections may go (`storage.oci.allowed-private-registries`): checked before every
   * request, redirect target and token realm. Default: anywhere (the CLI; the service passes one).
   */
  policy?: HostPolicy;
  /** fail fast while a host is down; share one instance between clients. Default: none */
  breakers?: CircuitBreakers;
  /** may this `host[:port]` (a token realm) be plain http? Default: only this registry when insecure */
  isInsecureHost?: (host: string) => boolean;
  /** default: registryTransport({ policy }) (no decompression, no automatic redirects, pinned DNS) */
  fetch?: RegistryFetch;
  /** default: Date.now (token expiry) */
  now?: () => number;
  /** per request, headers and body; default 30 s */
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
  /** the attempt the call is part of (its deadline aborts every request of the call, tokens included) */
  context?: AttemptContext;
}

/**
 * A thin OCI distribution client over fetch for one registry host: the /v2/ auth challenge (Basic,
 * or Bearer tokens fetched with Basic credentials or an identity token, cached per scope until
 * expiry), blobs, manifests, tags and referrers. Errors are ObserverError('registry') naming the
 * operation and `registry/repository`, with a reason code and a tenant-safe publicMessage.
 * Registries are tenant-chosen, so: every request asks for `Accept-Encoding: identity` and every
 * body is read through a byte cap (bounded-body.ts); redirects are followed by hand (redirects.ts);
 * hosts, redirect targets and token realms pass the host policy; a host that keeps failing trips
 * its circuit breaker. https://github.com/opencontainers/distribution-spec
 */
export class RegistryClient {
  readonly registry: string;
  readonly #base: string;
  readonly #credentials?: RegistryCredentials;
  readonly #http: RegistryHttp;
  readonly #isInsecureHost: (host: string) => boolean;
  readonly #tokens: TokenCache;
  /** `repository@digest` → its upload in flight (uploadBlob) */
  readonly #uploading = new Map<string, Promise<string>>();
  /** set once the registry answered with a Basic challenge */
  #basic = false;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.#base = `${options.insecure ? 'http' : 'https'}://${options.registry}`;
    this.#credentials = options.credentials;
    this.#http = new RegistryHttp(options);
    this.#isInsecureHost =
      options.isInsecureHost ?? ((host) => !!options.insecure && host === options.registry);
    this.#tokens = new TokenCache({ now: options.now });
  }

  /**
   * True when the blob exists in the repository. Every method takes the AttemptContext of the
   * attempt it serves last (default: none, outside any attempt).
   */
  async blobExists(repository: string, digest: string, context?: AttemptContext): Promise<boolean> {
    const call: Call = { operation: 'HEAD blob', repository, actions: 'pull', context };
    const res = await this.#send(call, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(call.operation, this.#target(repository), res);
  }

  /** The blob's bytes (at most `maxBytes`, default 64 MiB), unverified: callers compare sha256Digest(bytes) with the digest. */
  async getBlob(
    repository: string,
    digest: string,
    maxBytes = BLOB_LIMIT,
    context?: AttemptContext,
  ): Promise<Uint8Array> {
    const call: Call = { operation: `GET blob ${digest}`, repository, actions: 'pull', context };
    const res = await this.#send(call, `/v2/${repository}/blobs/${digest}`, { method: 'GET' });
    if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
    return this.#http.read(this.#where(call), res, maxBytes, context);
  }

  /**
   * Uploads the bytes unless the blob is already there (monolithic POST then PUT); returns the
   * digest. `fresh`: the bytes were just made (a new envelope, a config over new entries), so the
   * existence check is skipped: a registry that has them anyway takes the upload again (same
   * digest, same content), one request less per blob.
   */
  async uploadBlob(
    repository: string,
    bytes: Uint8Array,
    options: { fresh?: boolean; context?: AttemptContext } = {},
  ): Promise<string> {
    // One upload of a blob per repository at a time in this process: one run's envelope goes to
    // the .att of each of its images, and concurrent uploads of one digest to one repository race
    // in distribution (its manifest PUT then fails "manifest blob unknown"). Callers share it.
    const key = `${repository}@${sha256Digest(bytes)}`;
    const inFlight = this.#uploading.get(key);
    if (inFlight) return inFlight;
    const upload = this.#uploadOnce(repository, bytes, options).finally(() => this.#uploading.delete(key));
    this.#uploading.set(key, upload);
    return upload;
  }

  async #uploadOnce(
    repository: string,
    bytes: Uint8Array,
    options: { fresh?: boolean; context?: AttemptContext },
  ): Promise<string> {
    const { context } = options;
    const digest = sha256Digest(bytes);
    if (!options.fresh && (await this.blobExists(repository, digest, context))) return digest;
    const call: Call = { operation: 'upload blob', repository, actions: 'pull,push', context };
    const started = await this.#send(call, `/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location)
      throw await statusError(call.operation, this.#target(repository), started);
    await discardBody(started);
    // Location may be relative or absolute and already carries query state (`_state=…`). An
    // absolute one is another host's word: it passes the host policy in #exchange, and must not
    // downgrade https (Authorization only ever goes to the registry's own origin).
    const url = URL.parse(location, this.#base);
    if (!url || (new URL(this.#base).protocol === 'https:' && url.protocol !== 'https:'))
      throw registryError('registry_redirect_forbidden', this.#where(call), {
        detail: 'upload Location is not an https URL',
        retryable: false,
      });
    url.searchParams.set('digest', digest);
    const headers = { 'content-type': 'application/octet-stream' };
    const done = await this.#send(call, url.href, { method: 'PUT', headers, body: bytes });
    if (done.status !== 201) throw await statusError(call.operation, this.#target(repository), done);
    await discardBody(done);
    return digest;
  }

  /** The manifest at a tag or digest, or undefined when there is none (404). */
  async getManifest(
    repository: string,
    reference: string,
    context?: AttemptContext,
  ): Promise<ManifestResponse | undefined> {
    const call: Call = { operation: `GET manifest ${reference}`, repository, actions: 'pull', context };
    const headers = { accept: MANIFEST_ACCEPT };
    const res = await this.#send(call, `/v2/${repository}/manifests/${reference}`, {
      method: 'GET',
      headers,
    });
    if (res.status === 404) {
      // read to its end, or the connection is not reused (a fresh tag answers 404 on every run)
      await discardBody(res);
      return undefined;
    }
    if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
    const bytes = await this.#http.read(this.#where(call), res, MANIFEST_LIMIT, call.context);
    const digest = sha256Digest(bytes);
    if (isSha256Digest(reference) && digest !== reference) {
      throw registryError('registry_digest_mismatch', this.#where(call), {
        detail: `content digest is ${digest}`,
        retryable: false,
      });
    }
    const etag = res.headers.get('etag') ?? undefined;
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    return { bytes, mediaType, digest, ...(etag ? { etag } : {}) };
  }

  /** HEAD of a blob by digest: the status for 200/401/403/404, anything else thrown as headManifest. */
  async headBlob(
    repository: string,
    digest: string,
    context?: AttemptContext,
  ): Promise<200 | 401 | 403 | 404> {
    const call: Call = { operation: `HEAD blob ${digest}`, repository, actions: 'pull', context };
    const res = await this.#send(call, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    await discardBody(res);
    if (res.status === 200 || res.status === 401 || res.status === 403 || res.status === 404)
      return res.status;
    throw await statusError(call.operation, this.#target(repository), res);
  }

  /**
   * HEAD of a manifest (by digest or tag): the status when it is a definite answer (200 found, 404
   * not found, 401/403 refused after the auth challenge); other statuses throw (5xx retryable).
   */
  async headManifest(
    repository: string,
    reference: string,
    context?: AttemptContext,
  ): Promise<200 | 401 | 403 | 404> {
    const call: Call = { operation: `HEAD manifest ${reference}`, repository, actions: 'pull', context };
    const headers = { accept: MANIFEST_ACCEPT };
    const res = await this.#send(call, `/v2/${repository}/manifests/${reference}`, {
      method: 'HEAD',
      headers,
    });
    await discardBody(res);
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
    options: { ifMatch?: string; context?: AttemptContext } = {},
  ): Promise<{ digest: string; ociSubject?: string }> {
    const call: Call = {
      operation: `PUT manifest ${reference}`,
      repository,
      actions: 'pull,push',
      context: options.context,
    };
    const headers: Record<string, string> = { 'content-type': mediaType };
    if (options.ifMatch) headers['if-match'] = options.ifMatch;
    const res = await this.#send(call, `/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      headers,
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200)
      throw await statusError(call.operation, this.#target(repository), res);
    await discardBody(res);
    const ociSubject = res.headers.get('oci-subject') ?? undefined;
    return { digest: sha256Digest(bytes), ...(ociSubject ? { ociSubject } : {}) };
  }

  /**
   * All tags of the repository (following `Link` pagination, at most MANIFEST_LIMIT bytes over all
   * pages: registry_body_too_large past it); [] when the repository is unknown.
   */
  async listTags(repository: string, context?: AttemptContext): Promise<string[]> {
    const call: Call = { operation: 'list tags', repository, actions: 'pull', context };
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list`;
    // the pages together are read within one manifest's cap, not 100 of them
    let remaining = MANIFEST_LIMIT;
    for (let page = 0; path && page < MAX_TAG_PAGES; page++) {
      const res = await this.#send(call, path, { method: 'GET' });
      if (res.status === 404) {
        await discardBody(res);
        return tags;
      }
      if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
      const body = this.#http.json<{ tags?: string[] | null }>(
        this.#where(call),
        await this.#http.read(this.#where(call), res, remaining, call.context).then((bytes) => {
          remaining -= bytes.length;
          return bytes;
        }),
      );
      tags.push(...(Array.isArray(body.tags) ? body.tags.filter((t) => typeof t === 'string') : []));
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
    context?: AttemptContext,
  ): Promise<ImageIndex | undefined> {
    const call: Call = { operation: `GET referrers ${digest}`, repository, actions: 'pull', context };
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.#send(call, `/v2/${repository}/referrers/${digest}${query}`, {
      method: 'GET',
      headers: { accept: OCI_INDEX },
    });
    if (res.status === 404) {
      // read to its end, or the connection is not reused (a fresh tag answers 404 on every run)
      await discardBody(res);
      return undefined;
    }
    if (res.status !== 200) throw await statusError(call.operation, this.#target(repository), res);
    const bytes = await this.#http.read(this.#where(call), res, MANIFEST_LIMIT, call.context);
    try {
      return parseImageIndex(bytes, `referrers of ${this.#target(repository)}@${digest}`);
    } catch (err) {
      throw registryError('registry_bad_answer', this.#where(call), { retryable: false, cause: err });
    }
  }

  #target(repository: string): string {
    return `${this.registry}/${repository}`;
  }

  #where(call: Call): Where {
    return { operation: call.operation, target: this.#target(call.repository) };
  }

  /** One request with auth: answers a 401 challenge once, then returns whatever comes back. */
  async #send(call: Call, pathOrUrl: string, init: RequestInit): Promise<RegistryResponse> {
    const url = new URL(pathOrUrl, this.#base);
    const scope = `repository:${call.repository}:${call.actions}`;
    let authorization = this.#cachedAuthorization(scope, call.repository);
    const first = await this.#http.send(
      this.#where(call),
      url,
      init,
      authorization,
      'registry',
      call.context,
    );
    if (first.status !== 401) return first;
    // a redirect target's challenge (its own token realm, or Basic) is not answered with this
    // registry's credentials: they belong to this registry's host only
    if ((finalUrlOf(first)?.origin ?? url.origin) !== url.origin) return first;
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    if (!challenge) return first;
    authorization = await this.#authorize(challenge, scope, call);
    if (!authorization) return first;
    await discardBody(first);
    return this.#http.send(this.#where(call), url, init, authorization, 'registry', call.context);
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

  async #fetchToken(
    challenge: Challenge & { scheme: 'bearer' },
    scope: string,
    call: Call,
  ): Promise<TokenResponse> {
    const op: Call = { ...call, operation: `token for ${call.operation}` };
    const base = new URL(this.#base);
    const res = await requestToken({
      challenge,
      scope,
      credentials: this.#credentials,
      basicHeader: this.#basicHeader(),
      plainHttpAllowed: (realm) =>
        (base.protocol === 'http:' && realm.hostname === base.hostname) || this.#isInsecureHost(realm.host),
      send: (realm, init, authorization) =>
        this.#http.send(this.#where(op), realm, init, authorization, 'realm', call.context),
      refuse: (detail) =>
        registryError('registry_realm_forbidden', this.#where(op), { detail, retryable: false }),
    });
    if (res.status !== 200) throw await statusError(op.operation, this.#target(call.repository), res);
    return this.#http.json<TokenResponse>(
      this.#where(op),
      await this.#http.read(this.#where(op), res, SMALL_BODY_LIMIT, call.context),
    );
  }
}

/** Pages of `tags/list` followed at most (a registry could send `Link: next` forever). */
const MAX_TAG_PAGES = 100;
