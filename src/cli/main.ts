import { ObserverError } from '../errors.ts';

const USAGE = `usage: provenance-observer <command> [options]

commands:
  run       watch Tekton runs in a cluster and attest them (the service)
  generate  print the provenance of a TaskRun/PipelineRun file (offline); signed with --key
  verify    verify a DSSE envelope file, or an image's attestations and signatures in a registry
  index     export or import the index of record (backup, moving between SQLite and PostgreSQL)
  audit     walk the decision log against its checkpoints, the cluster and the registry
  get       read the lookup API: runs, attestations by digest, envelopes, keys (kubectl-style tables)
  resign    re-attest runs after a key rotation or a format change (bounded, resumable, idempotent)

"provenance-observer <command> --help" shows a command's options.`;

/** The command line's only entry: dispatches to a command; exit code 0 ok, 1 failed check, 2 usage/config error. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // Each command loads only what it needs: generate and verify start without the service's stack.
  switch (command) {
    case 'run':
      return (await import('./run.ts')).runCommand(rest);
    case 'generate':
      return (await import('./generate.ts')).generateCommand(rest);
    case 'verify':
      return (await import('./verify.ts')).verifyCommand(rest);
    case 'index':
      return (await import('./index-command.ts')).indexCommand(rest);
    case 'get':
      return (await import('./get/index.ts')).getCommand(rest);
    case 'resign':
      return (await import('./resign/index.ts')).resignCommand(rest);
    case 'audit':
      return (await import('./audit/index.ts')).auditCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

let settled = false;
// a command whose promise never settles (nothing left to wait for) must not exit 0 silently
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write('provenance-observer: the command stopped before finishing (internal error)\n');
  process.exitCode = 1;
});
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    const usage = err instanceof ObserverError && err.code === 'config_invalid';
    process.stderr.write(`provenance-observer: ${(err as Error).message}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
