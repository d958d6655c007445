import { BoundedCache } from '../cache/index.ts';
import { ObserverError } from '../errors.ts';
import type { CoreApi, SecretObject } from '../kube/index.ts';
import type { AttemptContext } from '../model/index.ts';
import type { Logger } from '../observability/index.ts';
import { describeRun, type RunRef } from '../tekton/index.ts';
import type { CredentialSource, RegistryCredentials } from './credentials.ts';
import { dockerConfigCredentials } from './credentials-docker-config.ts';

export interface ServiceAccountCredentialsOptions {
  core: Pick<CoreApi, 'readNamespacedServiceAccount' | 'readNamespacedSecret'>;
  logger: Logger;
  /**
   * Also read the ServiceAccount's imagePullSecrets. Default false, as Chains (k8schain with
   * IgnorePullSecrets: true): pull secrets are for pulling, and a tenant may not mean them for pushes.
   */
  includeImagePullSecrets?: boolean;
  /**
   * How long an answer is reused for the same ServiceAccount and registry host (default 10 s): a
   * run stores to several tags and checks its subjects, each asking; a backlog asks thousands of
   * times for the same account. A rotated Secret is seen within this time.
   */
  cacheMs?: number;
}

/**
 * Credentials from the run's ServiceAccount, like Chains' k8schain with UseMountSecrets: the
 * account's `.secrets` of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg, in order;
 * the first that has the registry host answers. Forbidden or missing objects answer undefined
 * with one log line (the observer may lack RBAC for a tenant; storage then tries anonymously);
 * other API failures throw a retryable ObserverError('kube'). Answers (and lookups under way) are
 * shared for `cacheMs`; a failed lookup is not kept.
 */
export class ServiceAccountCredentials implements CredentialSource {
  readonly #core: ServiceAccountCredentialsOptions['core'];
  readonly #logger: Logger;
  readonly #pullSecrets: boolean;
  readonly #answers: BoundedCache<Promise<RegistryCredentials | undefined>>;

  constructor(options: ServiceAccountCredentialsOptions) {
    this.#core = options.core;
    this.#logger = options.logger;
    this.#pullSecrets = options.includeImagePullSecrets ?? false;
    this.#answers = new BoundedCache({ maxEntries: 1000, ttlMs: options.cacheMs ?? 10_000 });
  }

  /** `context`: the asking attempt's lane is the lookup's (a shared lookup keeps its first asker's). */
  credentialsFor(
    run: RunRef,
    registryHost: string,
    _repository?: string,
    context?: AttemptContext,
  ): Promise<RegistryCredentials | undefined> {
    const key = `${run.namespace}\n${run.serviceAccountName || 'default'}\n${registryHost}`;
    const known = this.#answers.get(key);
    if (known) return known;
    const answer = this.#lookUp(run, registryHost, context);
    this.#answers.set(key, answer);
    answer.catch(() => this.#answers.delete(key));
    return answer;
  }

  async #lookUp(
    run: RunRef,
    registryHost: string,
    context: AttemptContext | undefined,
  ): Promise<RegistryCredentials | undefined> {
    const namespace = run.namespace;
    const name = run.serviceAccountName || 'default';
    const sa = await this.#read(run, `ServiceAccount ${namespace}/${name}`, () =>
      this.#core.readNamespacedServiceAccount({ name, namespace, context }),
    );
    if (!sa) return undefined;
    const names = [
      ...(sa.secrets ?? []).map((s) => s.name),
      ...(this.#pullSecrets ? (sa.imagePullSecrets ?? []).map((s) => s.name) : []),
    ].filter((n): n is string => !!n);
    for (const secretName of new Set(names)) {
      const secret = await this.#read(run, `Secret ${namespace}/${secretName}`, () =>
        this.#core.readNamespacedSecret({ name: secretName, namespace, context }),
      );
      const config = secret ? dockerConfigOf(secret) : undefined;
      const creds = config === undefined ? undefined : dockerConfigCredentials(config, registryHost);
      if (creds) return creds;
    }
    return undefined;
  }

  async #read<T>(run: RunRef, what: string, read: () => Promise<T>): Promise<T | undefined> {
    try {
      return await read();
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 403 || code === 404) {
        this.#logger.info(
          { kind: run.kind, namespace: run.namespace, name: run.name, status: code },
          `registry credentials: cannot read ${what}; continuing without it`,
        );
        return undefined;
      }
      throw new ObserverError(
        `reading ${what} for registry credentials of ${describeRun(run)}: ${(err as Error).message}`,
        {
          code: 'kube',
          retryable: true,
          cause: err,
        },
      );
    }
  }
}

/** The docker config JSON a pull secret holds, or undefined for other secret types or bad JSON. */
export function dockerConfigOf(secret: SecretObject): unknown {
  const key =
    secret.type === 'kubernetes.io/dockerconfigjson'
      ? '.dockerconfigjson'
      : secret.type === 'kubernetes.io/dockercfg'
        ? '.dockercfg'
        : undefined;
  const data = key && secret.data?.[key];
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}
