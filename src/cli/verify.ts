import { readFileSync } from 'node:fs';
import { ObserverError } from '../errors.ts';
import { verifyEnvelope, verifyImage } from '../verify/index.ts';
import { parseFlags, required } from './args.ts';

const USAGE = `usage: provenance-observer verify --key <pub.pem> (--envelope <file> | --image <ref> [--insecure-registry])

--envelope  checks a DSSE envelope file's signature with the public key.
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
    return verdict.ok ? 0 : 1;
  }
  const image = required(values.image as string | undefined, 'image or --envelope', USAGE);
  const report = await verifyImage({ image, publicKeyPem, insecure: values['insecure-registry'] as boolean });
  for (const c of report.checks)
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}\n`);
  process.stdout.write(report.ok ? 'verified\n' : 'verification FAILED\n');
  return report.ok ? 0 : 1;
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
