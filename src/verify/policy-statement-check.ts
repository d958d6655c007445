/**
 * `verify --policy-statement`: checks, offline, a provenance envelope against the signed subject
 * policy statement (formats/policy-statement.ts): the statement's signature with the platform key,
 * its type, its validity window at `now`, the provenance's `namespace` (run-identity.ts: v1.0
 * `buildDefinition.internalParameters.namespace`, v0.2 `invocation.environment.namespace`), and each
 * subject allowed for that namespace by the statement's rules. Rules that select namespaces by
 * label only cannot be decided offline (the verifier does not know a namespace's labels): they
 * allow nothing here, and a refusal says so. Pure: no I/O, the clock is given.
 */
import {
  INTOTO_PAYLOAD_TYPE,
  POLICY_STATEMENT_PREDICATE_TYPE,
  type PolicyStatementPredicate,
  policyVersion,
  STATEMENT_V1,
  type Statement,
} from '../formats/index.ts';
import { digestOfSet, parseSubject } from '../model/index.ts';
import { parseSubjectPolicy, type SubjectPolicy } from '../policy/index.ts';
import { verifyEnvelope } from './envelope.ts';
import type { Check } from './image-checks.ts';

export interface PolicyStatementCheckInput {
  /** the statement's DSSE envelope (GET /api/v1/policy-statement, or the ConfigMap's `statement`) */
  statementEnvelope: Uint8Array | string;
  /** the provenance's DSSE envelope */
  provenanceEnvelope: Uint8Array | string;
  /** the platform key (PEM) */
  publicKeyPem: string;
  now: Date;
}

type Predicate = PolicyStatementPredicate;

/** One Check per step; every check runs that can, so a refusal lists all its reasons. */
export function checkPolicyStatement(input: PolicyStatementCheckInput): Check[] {
  const signature = verifyEnvelope(input.statementEnvelope, input.publicKeyPem);
  const checks: Check[] = [
    signature.ok
      ? { name: 'policy statement signature', ok: true, detail: `key ${signature.keyId}` }
      : { name: 'policy statement signature', ok: false, detail: signature.reason },
  ];
  const statement = readStatement(input.statementEnvelope);
  if ('reason' in statement)
    return [...checks, { name: 'policy statement', ok: false, detail: statement.reason }];
  const p = statement.predicate;
  checks.push({ name: 'policy statement', ok: true, detail: `version ${p.version}` }, validity(p, input.now));
  const provenance = readProvenance(input.provenanceEnvelope);
  if ('reason' in provenance)
    return [...checks, { name: 'provenance namespace', ok: false, detail: provenance.reason }];
  checks.push({ name: 'provenance namespace', ok: true, detail: provenance.namespace });
  const policy = p.unrestricted ? undefined : offlinePolicy(p);
  for (const s of provenance.subjects) checks.push(subjectCheck(provenance.namespace, s, p, policy));
  if (provenance.subjects.length === 0)
    checks.push({ name: 'provenance subjects', ok: false, detail: 'the provenance names no subject' });
  return checks;
}

function validity(p: Predicate, now: Date): Check {
  const from = Date.parse(p.issuedAt);
  const until = Date.parse(p.validUntil);
  const name = 'policy statement validity';
  if (now.getTime() < from)
    return { name, ok: false, detail: `not valid before ${p.issuedAt} (now ${now.toISOString()})` };
  if (now.getTime() >= until)
    return { name, ok: false, detail: `expired at ${p.validUntil} (now ${now.toISOString()})` };
  return { name, ok: true, detail: `${p.issuedAt} to ${p.validUntil}` };
}

function subjectCheck(
  namespace: string,
  s: { name: string; digest: string },
  p: Predicate,
  policy: SubjectPolicy | undefined,
): Check {
  const name = `subject ${s.name} allowed for namespace ${namespace}`;
  if (!policy)
    return { name, ok: true, detail: 'the policy statement is unrestricted (no subject policy set)' };
  const parsed = parseSubject(s.name, s.digest);
  if (!parsed.ok) return { name, ok: false, detail: `subject does not parse: ${parsed.reason}` };
  const decision =
    parsed.kind === 'oci'
      ? policy.allowed(namespace, {}, parsed.repository)
      : policy.allowedUri(namespace, {}, parsed.uri);
  if (decision.allowed) return { name, ok: true, detail: `rule ${decision.rule}` };
  const bySelector = p.rules.filter((r) => r.namespaceSelector !== undefined).map((r) => r.name);
  const note = bySelector.length
    ? `; rules selecting namespaces by label (${bySelector.join(', ')}) cannot be checked offline`
    : '';
  return {
    name,
    ok: false,
    detail: `namespace ${namespace} may not claim ${s.name} under policy ${p.version} (${decision.rule}${note})`,
  };
}

/** The statement's rules with label selectors removed (they cannot be decided offline). */
function offlinePolicy(p: Predicate): SubjectPolicy {
  const rules = p.rules.flatMap(({ namespaceSelector: _, ...r }) => (r.namespaces?.length ? [r] : []));
  if (rules.length === 0) return parseSubjectPolicy(JSON.stringify({ rules: [denyAll] }));
  return parseSubjectPolicy(JSON.stringify({ rules }), 'policy statement');
}

const denyAll = { name: 'no-rule-names-a-namespace', namespaces: [''], uris: ['none:'] };

function readStatement(envelope: Uint8Array | string): Statement<Predicate> | { reason: string } {
  const parsed = payloadOf(envelope);
  if ('reason' in parsed) return parsed;
  const s = parsed.statement as Partial<Statement<Partial<Predicate>>>;
  if (s._type !== STATEMENT_V1 || s.predicateType !== POLICY_STATEMENT_PREDICATE_TYPE)
    return {
      reason: `not a subject policy statement (predicateType must be ${POLICY_STATEMENT_PREDICATE_TYPE})`,
    };
  const p = s.predicate;
  if (
    !p ||
    typeof p.version !== 'string' ||
    typeof p.issuedAt !== 'string' ||
    typeof p.validUntil !== 'string'
  )
    return { reason: 'predicate lacks version, issuedAt or validUntil' };
  if (!Array.isArray(p.rules) || typeof p.unrestricted !== 'boolean')
    return { reason: 'predicate lacks rules or unrestricted' };
  if (policyVersion(p.rules) !== p.version)
    return { reason: `version ${p.version} is not the digest of its rules` };
  if (p.unrestricted !== (p.rules.length === 0))
    return { reason: 'unrestricted must be true exactly when there are no rules' };
  try {
    parseSubjectPolicy(JSON.stringify({ rules: p.rules.length ? p.rules : [denyAll] }), 'policy statement');
  } catch (err) {
    return { reason: (err as Error).message };
  }
  return s as Statement<Predicate>;
}

interface ProvenanceClaims {
  namespace: string;
  subjects: { name: string; digest: string }[];
}

function readProvenance(envelope: Uint8Array | string): ProvenanceClaims | { reason: string } {
  const parsed = payloadOf(envelope);
  if ('reason' in parsed) return { reason: `provenance ${parsed.reason}` };
  type Shape = Statement<{
    buildDefinition?: { internalParameters?: { namespace?: unknown } };
    invocation?: { environment?: { namespace?: unknown } };
  }>;
  const s = parsed.statement as Partial<Shape>;
  const namespace =
    s.predicate?.buildDefinition?.internalParameters?.namespace ??
    s.predicate?.invocation?.environment?.namespace;
  if (typeof namespace !== 'string' || namespace === '')
    return {
      reason:
        'the provenance records no namespace (buildDefinition.internalParameters.namespace or invocation.environment.namespace)',
    };
  const subjects = (Array.isArray(s.subject) ? s.subject : []).map((d) => ({
    name: String(d?.name ?? ''),
    digest: digestOfSet(d?.digest) ?? '',
  }));
  return { namespace, subjects };
}

function payloadOf(envelope: Uint8Array | string): { statement: unknown } | { reason: string } {
  try {
    const env = JSON.parse(Buffer.from(envelope).toString('utf8')) as {
      payloadType?: unknown;
      payload?: unknown;
    };
    if (env.payloadType !== INTOTO_PAYLOAD_TYPE || typeof env.payload !== 'string')
      return { reason: `envelope is not an in-toto DSSE envelope (payloadType ${INTOTO_PAYLOAD_TYPE})` };
    return { statement: JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) };
  } catch {
    return { reason: 'envelope or its payload is not JSON' };
  }
}
