import type { AttemptContext } from '../model/index.ts';
import { type CredentialOwner, credentialChoice, type SubjectPolicy } from '../policy/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { CredentialSource, RegistryCredentials } from './credentials.ts';

export interface PolicyGatedCredentialsOptions {
  /** the run's namespace's own credentials (ServiceAccountCredentials) */
  namespace: CredentialSource;
  /** the observer's own credentials (DockerConfigCredentials) */
  observer: CredentialSource;
  policy: SubjectPolicy;
  /** `storage.oci.repository` (`host/path`), when set */
  platformRepository?: string;
  /** a namespace's labels; asked only when the policy selects namespaces by label */
  namespaceLabels?: (
    namespace: string,
    context?: AttemptContext,
  ) => Promise<Readonly<Record<string, string>>>;
}

/**
 * The credentials rule of policy/credential-choice.ts applied to real sources: the namespace's
 * credentials first, then the observer's own, but those only for `storage.oci.repository` and for
 * repositories the namespace's subject policy allows (never for a repository a run names when no
 * policy is set). A request whose repository is unknown gets the namespace's credentials only.
 */
export class PolicyGatedCredentials implements CredentialSource {
  readonly #o: PolicyGatedCredentialsOptions;

  constructor(options: PolicyGatedCredentialsOptions) {
    this.#o = options;
  }

  async credentialsFor(
    run: RunRef,
    registryHost: string,
    repository?: string,
    context?: AttemptContext,
  ): Promise<RegistryCredentials | undefined> {
    for (const owner of await this.owners(run, repository, context)) {
      const source = owner === 'namespace' ? this.#o.namespace : this.#o.observer;
      const creds = await source.credentialsFor(run, registryHost, repository, context);
      if (creds) return creds;
    }
    return undefined;
  }

  /** Whose credentials may serve `repository` for this run, in order. */
  async owners(
    run: RunRef,
    repository: string | undefined,
    context?: AttemptContext,
  ): Promise<CredentialOwner[]> {
    const { policy, platformRepository, namespaceLabels } = this.#o;
    const labels = policy.needsLabels && namespaceLabels ? await namespaceLabels(run.namespace, context) : {};
    return credentialChoice({ policy, namespace: run.namespace, labels, repository, platformRepository })
      .owners;
  }
}
