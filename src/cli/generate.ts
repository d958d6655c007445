import { readFileSync } from 'node:fs';
import { sealOffline, signProvenance } from '../attest/index.ts';
import { DEFAULTS } from '../config/index.ts';
import { ObserverError } from '../errors.ts';
import { buildProvenance, type ChildRun, type ProvenanceInput, parseFormatName } from '../formats/index.ts';
import { parseRunDocument, type RunRef, type TaskRun, type TektonRun } from '../tekton/index.ts';
import { parseFlags, required } from './args.ts';
import { loadSignerFromFiles } from './key-file.ts';

const USAGE = `usage: provenance-observer generate --run <file> [--child <file>]... [--format slsa/v1.0|slsa/v0.2]
       [--deep-inspection] [--builder-id <uri>] [--build-type <uri>] [--key <file> [--password-file <file>]]

Reads a TaskRun or PipelineRun (JSON or YAML, as "kubectl get -o yaml" prints it) and prints its
provenance statement; with --key (a PKCS#8 PEM or a cosign key), the signed DSSE envelope instead.
A PipelineRun's child TaskRuns are given with --child; children it names but that are not given
are recorded as missing, as the service does for deleted children.`;

export async function generateCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      run: { type: 'string' },
      child: { type: 'string', multiple: true },
      format: { type: 'string', default: DEFAULTS['artifacts.taskrun.format'] },
      'deep-inspection': { type: 'boolean', default: false },
      'builder-id': { type: 'string', default: DEFAULTS['builder.id'] },
      'build-type': { type: 'string', default: DEFAULTS['builddefinition.buildtype'] },
      key: { type: 'string' },
      'password-file': { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return help();
  const run = readRun(required(values.run, 'run', USAGE));
  const children = (values.child ?? []).map(readChild);
  const provenance = buildProvenance(toInput(run, children), {
    format: parseFormatName(values.format as string),
    builderId: values['builder-id'] as string,
    buildType: values['build-type'] as string,
    deepInspection: values['deep-inspection'] as boolean,
  });
  // what the service would sign: the subjects through the subject gate (no policy, no existence)
  const ref = refOf(run);
  const { sealed, skipped } = await sealOffline(ref, provenance);
  for (const s of [...provenance.skipped, ...skipped])
    process.stderr.write(`skipped ${s.source}: ${s.reason}\n`);
  if (!values.key) {
    process.stdout.write(`${Buffer.from(sealed.payload).toString('utf8')}\n`);
    return 0;
  }
  const signer = await loadSignerFromFiles({
    keyFile: values.key as string,
    passwordFile: values['password-file'] as string | undefined,
  });
  const { envelopeBytes } = await signProvenance(ref, sealed, signer);
  process.stdout.write(`${Buffer.from(envelopeBytes).toString('utf8')}\n`);
  return 0;
}

/** The run as the service names it (a file without a uid or namespace still generates). */
function refOf(run: TektonRun): RunRef {
  const { name = 'run', namespace = 'default', uid = '' } = run.metadata ?? {};
  return { kind: run.kind, namespace, name, uid, serviceAccountName: 'default' };
}

function help(): number {
  process.stdout.write(`${USAGE}\n`);
  return 0;
}

function readRun(path: string): TektonRun {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ObserverError(`reading ${path}: ${(err as Error).message}`, {
      code: 'input_invalid',
      retryable: false,
    });
  }
  return parseRunDocument(text);
}

function readChild(file: string): TaskRun {
  const child = readRun(file);
  if (child.kind !== 'TaskRun')
    throw new ObserverError(`--child ${file}: a child must be a TaskRun, not a ${child.kind}`, {
      code: 'input_invalid',
      retryable: false,
    });
  return child;
}

/** Children named by the PipelineRun but not given are "missing"; given ones are matched by name. */
function toInput(run: TektonRun, children: TaskRun[]): ProvenanceInput {
  if (run.kind === 'TaskRun') return { kind: 'TaskRun', run };
  const pr = run;
  const byName = new Map(children.map((c) => [c.metadata?.name, c]));
  const refs = pr.status?.childReferences ?? [];
  const found: ChildRun[] = refs.map((ref) => {
    const child = byName.get(ref.name);
    if (ref.kind && ref.kind !== 'TaskRun')
      return {
        name: ref.name,
        pipelineTaskName: ref.pipelineTaskName,
        state: 'not-a-taskrun',
        kind: ref.kind,
      };
    return child
      ? { name: ref.name, pipelineTaskName: ref.pipelineTaskName, state: 'found', run: child }
      : { name: ref.name, pipelineTaskName: ref.pipelineTaskName, state: 'missing' };
  });
  const extra = children.filter((c) => !refs.some((r) => r.name === c.metadata?.name));
  for (const c of extra) found.push({ name: c.metadata?.name ?? '', state: 'found', run: c });
  return { kind: 'PipelineRun', run: pr, children: found };
}
