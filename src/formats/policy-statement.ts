/**
 * The subject policy in force as an in-toto Statement v1, for the platform key to sign (docs/keys.md,
 * "The signed subject policy"). A verifier holding it and the platform's public key checks offline
 * that the namespace a provenance names (run-identity.ts) was allowed to claim its subjects.
 *
 * ```json
 * {"_type": "https://in-toto.io/Statement/v1",
 *  "subject": [{"name": "attestation.subject-policy", "digest": {"sha256": "<hex of canonical rules>"}}],
 *  "predicateType": "https://provenance-observer.dev/subject-policy/v1",
 *  "predicate": {"version": "sha256:<hex>", "issuedAt": "…Z", "validUntil": "…Z",
 *                "unrestricted": false, "rules": [<the rules as attestation.subject-policy writes them>]}}
 * ```
 *
 * `version` names the policy by content (the sha256 of the canonical JSON of `rules`), so replicas
 * signing the same policy agree on it without sharing a counter. `unrestricted: true` (no policy set)
 * says any namespace may claim any subject, as Tekton Chains. Pure: the times are given.
 */
import { createHash } from 'node:crypto';
import { STATEMENT_V1, type Statement } from '../intoto/index.ts';
import type { SubjectPolicy, SubjectPolicyRule } from '../policy/index.ts';
import { canonicalJson, canonicalJsonBytes } from './canonical-json.ts';

export const POLICY_STATEMENT_PREDICATE_TYPE = 'https://provenance-observer.dev/subject-policy/v1';
export const POLICY_STATEMENT_SUBJECT = 'attestation.subject-policy';

export interface PolicyStatementPredicate {
  version: string;
  issuedAt: string;
  validUntil: string;
  unrestricted: boolean;
  rules: SubjectPolicyRule[];
}

export interface PolicyStatement {
  statement: Statement<PolicyStatementPredicate>;
  /** canonical JSON of `statement`: the DSSE payload */
  payload: Uint8Array;
}

/** The version (content digest) of a policy's rules. */
export function policyVersion(rules: readonly SubjectPolicyRule[]): string {
  return `sha256:${createHash('sha256').update(canonicalJson(rules)).digest('hex')}`;
}

/** The statement of `policy`, valid from `issuedAt` for `validitySeconds`. */
export function buildPolicyStatement(
  policy: Pick<SubjectPolicy, 'configured' | 'rules'>,
  times: { issuedAt: Date; validitySeconds: number },
): PolicyStatement {
  const rules = structuredClone([...policy.rules]);
  const version = policyVersion(rules);
  const statement: Statement<PolicyStatementPredicate> = {
    _type: STATEMENT_V1,
    subject: [{ name: POLICY_STATEMENT_SUBJECT, digest: { sha256: version.slice('sha256:'.length) } }],
    predicateType: POLICY_STATEMENT_PREDICATE_TYPE,
    predicate: {
      version,
      issuedAt: times.issuedAt.toISOString(),
      validUntil: new Date(times.issuedAt.getTime() + times.validitySeconds * 1000).toISOString(),
      unrestricted: !policy.configured,
      rules,
    },
  };
  return { statement, payload: canonicalJsonBytes(statement) };
}
