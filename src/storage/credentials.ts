import type { AttemptContext } from '../model/index.ts';
import type { RegistryCredentials } from '../oci/index.ts';
import type { RunRef } from '../tekton/index.ts';

export type { RegistryCredentials };

/**
 * Where registry credentials come from, per run and registry host (as Chains asks k8schain for the
 * run's namespace and service account). Answers undefined when it has none for that host: the
 * registry is then tried anonymously, or the next source in a ChainedCredentials answers.
 * `repository` (`host/path`) is the repository the request goes to; sources that decide per
 * repository (PolicyGatedCredentials) treat an absent one as "not allowed".
 * `context`: the attempt asking (sources that read the apiserver do it in its lane).
 * Implementations never log or put credentials into errors.
 */
export interface CredentialSource {
  credentialsFor(
    run: RunRef,
    registryHost: string,
    repository?: string,
    context?: AttemptContext,
  ): Promise<RegistryCredentials | undefined>;
}
