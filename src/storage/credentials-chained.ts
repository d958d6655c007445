import type { AttemptContext } from '../model/index.ts';
import type { RunRef } from '../tekton/index.ts';
import type { CredentialSource, RegistryCredentials } from './credentials.ts';

/** Asks each source in order; the first that has credentials for the host answers. */
export class ChainedCredentials implements CredentialSource {
  readonly #sources: CredentialSource[];

  constructor(options: { sources: CredentialSource[] }) {
    this.#sources = options.sources;
  }

  async credentialsFor(
    run: RunRef,
    registryHost: string,
    repository?: string,
    context?: AttemptContext,
  ): Promise<RegistryCredentials | undefined> {
    for (const source of this.#sources) {
      const creds = await source.credentialsFor(run, registryHost, repository, context);
      if (creds) return creds;
    }
    return undefined;
  }
}
