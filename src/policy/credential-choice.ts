/**
 * Whose registry credentials may be used to push to (or read) a repository for a run. The rule:
 * - the run's namespace's own credentials (its ServiceAccount's push secrets) always: they belong
 *   to the tenant, and the registry decides what they may do;
 * - the observer's own credentials (its mounted docker config) only for `storage.oci.repository`
 *   (a repository the platform owns), and, when a subject policy is set, for repositories the
 *   namespace's policy allows. With no policy, never for a repository a run names: otherwise any
 *   tenant could make the observer write into any repository the observer can reach.
 */
import type { SubjectPolicy } from './subject-policy.ts';

export type CredentialOwner = 'namespace' | 'observer';

export interface CredentialChoiceInput {
  policy: SubjectPolicy;
  namespace: string;
  /** the namespace's labels (only read when the policy selects namespaces by label) */
  labels: Readonly<Record<string, string>>;
  /** `host/path` the request goes to; undefined = unknown, which never gets the observer's credentials */
  repository: string | undefined;
  /** `storage.oci.repository`, when set */
  platformRepository?: string;
}

export interface CredentialChoice {
  /** in the order to ask them */
  owners: CredentialOwner[];
  /** why the observer's credentials are, or are not, among them */
  reason: string;
}

export function credentialChoice(input: CredentialChoiceInput): CredentialChoice {
  const { policy, namespace, labels, repository, platformRepository } = input;
  if (repository === undefined) return { owners: ['namespace'], reason: 'repository unknown' };
  if (platformRepository !== undefined && repository === platformRepository)
    return { owners: ['namespace', 'observer'], reason: 'storage.oci.repository' };
  if (!policy.configured) return { owners: ['namespace'], reason: 'no subject policy: run-named repository' };
  const decision = policy.allowed(namespace, labels, repository);
  return decision.allowed
    ? { owners: ['namespace', 'observer'], reason: `allowed by rule ${decision.rule}` }
    : { owners: ['namespace'], reason: `not allowed: ${decision.rule}` };
}
