import { readFileSync } from 'node:fs';
import { ObserverError } from '../errors.ts';
import {
  checkLogInclusion,
  checkPolicyStatement,
  type LogProofFile,
  verifyEnvelope,
  verifyImage,
} from '../verify/index.ts';
import { parseFlags, required } from './args.ts';

const USAGE = `usage: provenance-observer verify --key <pub.pem> [--tenant-key <pub.pem>] [--require platform|tenant|both] (--envelope <file> [--log-checkpoint <note> --log-proof <json>] [--policy-statement <file>] | --image <ref> [--insecure-registry])

--key       the platform key (GET /api/v1/keys); --tenant-key: a tenant's key
            (GET /api/v1/keys?namespace=<ns>, signing.tenant-keys, docs/keys.md).
--require   which keys must have signed: platform (default with --key alone), tenant (default
            with --tenant-key alone) or both (default with both keys); each required key must
            verify a signature of its own.

--envelope  checks a DSSE envelope file's signature with the public key.
--log-checkpoint, --log-proof
            also check, offline, that the envelope is in the decision log: the checkpoint (a
            C2SP signed note, GET /api/v1/log/checkpoint) verifies with the key, and the proof
            (the \`log\` field of GET /api/v1/attestations/<id>) leads the envelope's entry to
            the checkpoint's root (docs/log.md).
--policy-statement
            also check the envelope's provenance against the signed subject policy statement
            (GET /api/v1/policy-statement, or the subject-policy-statement ConfigMap): signed by
            the key, valid now, and every subject allowed for the provenance's namespace
            (docs/keys.md).
--image     reads the image's sha256-<hex>.att and .sig from the registry and checks every layer's
            digest, every DSSE signature, that a subject matches the image digest, the predicate
            type, and every simplesigning signature. Registry credentials come from the docker
            config ($DOCKER_CONFIG or ~/.docker/config.json).
Prints each check; exits 0 when all pass, 1 when any fails.`;

export async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      key: { type: 'string' },
      'tenant-key': { type: 'string' },
      require: { type: 'string' },
      envelope: { type: 'string' },
      image: { type: 'string' },
      'insecure-registry': { type: 'boolean', default: false },
      'log-checkpoint': { type: 'string' },
      'log-proof': { type: 'string' },
      'policy-statement': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const keys = requiredKeys(values);
  const [publicKeyPem = ''] = keys.map((k) => k.pem);
  if (values.envelope) {
    const verdicts = verifyEnvelopeWith(read(values.envelope as string), keys);
    for (const c of verdicts)
      process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}\n`);
    // the policy statement is the platform's: checked with the platform key where one is given
    const platformPem = keys.find((k) => k.role === 'platform')?.pem ?? publicKeyPem;
    const log = [
      ...logChecks(values, read(values.envelope as string), publicKeyPem),
      ...policyChecks(values, read(values.envelope as string), platformPem),
    ];
    for (const c of log)
      process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}\n`);
    return verdicts.every((c) => c.ok) && log.every((c) => c.ok) ? 0 : 1;
  }
  if (values['policy-statement'])
    throw new ObserverError('--policy-statement needs --envelope (the provenance to check)', {
      code: 'config_invalid',
      retryable: false,
    });
  const image = required(values.image as string | undefined, 'image or --envelope', USAGE);
  const report = await verifyImage({
    image,
    publicKeyPem,
    alsoRequired: keys.slice(1).map((k) => k.pem),
    insecure: values['insecure-registry'] as boolean,
  });
  for (const c of report.checks)
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}\n`);
  process.stdout.write(report.ok ? 'verified\n' : 'verification FAILED\n');
  return report.ok ? 0 : 1;
}

type Role = 'platform' | 'tenant';

/** The keys that must each verify, from --key, --tenant-key and --require (see USAGE). */
function requiredKeys(values: Record<string, unknown>): { role: Role; pem: string }[] {
  const given = {
    platform: values.key as string | undefined,
    tenant: values['tenant-key'] as string | undefined,
  };
  const fallback = given.platform && given.tenant ? 'both' : given.tenant ? 'tenant' : 'platform';
  const choice = (values.require as string | undefined) ?? fallback;
  if (choice !== 'platform' && choice !== 'tenant' && choice !== 'both')
    throw new ObserverError(`verify: --require must be platform, tenant or both, not ${choice}\n${USAGE}`, {
      code: 'config_invalid',
      retryable: false,
    });
  const roles: Role[] = choice === 'both' ? ['platform', 'tenant'] : [choice];
  return roles.map((role) => {
    const flag = role === 'platform' ? 'key' : 'tenant-key';
    return { role, pem: read(required(given[role], flag, USAGE)).toString('utf8') };
  });
}

/**
 * One check per required key: a signature of the envelope verifies with it. Two required keys
 * must be two keys (the same key twice would let one signature pass for both).
 */
function verifyEnvelopeWith(envelope: Buffer, keys: { role: Role; pem: string }[]) {
  const label = (role: Role) =>
    keys.length === 1 && role === 'platform' ? 'dsse signature' : `dsse signature, ${role} key`;
  const verdicts = keys.map(({ pem }) => verifyEnvelope(envelope, pem));
  const checks = verdicts.map((v, i) => {
    const name = label(keys[i]?.role ?? 'platform');
    return v.ok
      ? { name: `${name} (key ${v.keyId})`, ok: true, detail: '' }
      : { name, ok: false, detail: v.reason };
  });
  const [a, b] = verdicts;
  if (a?.ok && b?.ok && a.keyId === b.keyId)
    checks.push({
      name: 'distinct keys',
      ok: false,
      detail: `--key and --tenant-key are the same key ${a.keyId}`,
    });
  return checks;
}

/** With --log-checkpoint (and --log-proof), the decision log checks of the envelope; none without. */
function logChecks(values: Record<string, unknown>, envelope: Buffer, publicKeyPem: string) {
  const checkpoint = values['log-checkpoint'] as string | undefined;
  if (!checkpoint) return [];
  const proofFile = required(values['log-proof'] as string | undefined, 'log-proof', USAGE);
  let proof: LogProofFile;
  try {
    const parsed = JSON.parse(read(proofFile).toString('utf8')) as LogProofFile & { log?: LogProofFile };
    proof = parsed.log ?? parsed;
  } catch {
    return [{ name: 'log proof', ok: false, detail: `${proofFile} is not JSON` }];
  }
  return checkLogInclusion({
    envelope,
    proof,
    checkpointNote: read(checkpoint).toString('utf8'),
    publicKeyPem,
  });
}

/** With --policy-statement, the subject policy checks of the envelope's provenance; none without. */
function policyChecks(values: Record<string, unknown>, envelope: Buffer, publicKeyPem: string) {
  const file = values['policy-statement'] as string | undefined;
  if (!file) return [];
  return checkPolicyStatement({
    statementEnvelope: read(file),
    provenanceEnvelope: envelope,
    publicKeyPem,
    now: new Date(),
  });
}

function read(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ObserverError(
      `reading ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        code: 'config_invalid',
        retryable: false,
      },
    );
  }
}
