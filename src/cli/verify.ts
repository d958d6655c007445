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

const USAGE = `usage: provenance-observer verify --key <pub.pem> (--envelope <file> [--log-checkpoint <note> --log-proof <json>] [--policy-statement <file>] | --image <ref> [--insecure-registry])

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
  const publicKeyPem = read(required(values.key as string | undefined, 'key', USAGE)).toString('utf8');
  if (values.envelope) {
    const verdict = verifyEnvelope(read(values.envelope as string), publicKeyPem);
    process.stdout.write(
      verdict.ok
        ? `ok   dsse signature (key ${verdict.keyId})\n`
        : `FAIL dsse signature: ${verdict.reason}\n`,
    );
    const log = [
      ...logChecks(values, read(values.envelope as string), publicKeyPem),
      ...policyChecks(values, read(values.envelope as string), publicKeyPem),
    ];
    for (const c of log)
      process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}\n`);
    return verdict.ok && log.every((c) => c.ok) ? 0 : 1;
  }
  if (values['policy-statement'])
    throw new ObserverError('--policy-statement needs --envelope (the provenance to check)', {
      code: 'config_invalid',
      retryable: false,
    });
  const image = required(values.image as string | undefined, 'image or --envelope', USAGE);
  const report = await verifyImage({ image, publicKeyPem, insecure: values['insecure-registry'] as boolean });
  for (const c of report.checks)
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}\n`);
  process.stdout.write(report.ok ? 'verified\n' : 'verification FAILED\n');
  return report.ok ? 0 : 1;
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
