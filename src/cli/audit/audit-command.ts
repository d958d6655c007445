import { readFileSync } from 'node:fs';
import { loadConfig, loadKubeConfig, readConfigSource } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { indexFromOptions } from '../../index/index.ts';
import { KubeConnection, RunApi, TokenBucket } from '../../kube/index.ts';
import { noteKeyOf } from '../../log/index.ts';
import type { RunKind } from '../../tekton/index.ts';
import { parseFlags, parseSets } from '../args.ts';
import { readCa } from '../compose/setup.ts';
import { type Findings, walkLog } from './log-walk.ts';
import { scanRegistry } from './registry-scan.ts';
import { checkRunCoverage } from './run-coverage.ts';

const USAGE = `usage: provenance-observer audit --key <pub.pem>... [--config <dir|file>] [--set key=value]...
         [--checkpoint <note>]... [--since <time> [--until <time>] [--kubeconfig <file>] [--kinds TaskRun,PipelineRun] [--namespaces a,b]]
         [--repository <host/repo>]... [--repositories-from-log] [--insecure-registry]

Walks the decision log (docs/log.md) of the index the configuration names (as \`run\` does):
  - the log: no entry missing, each entry hashes to its leaf, the rebuilt tree has the stored root
    and the root of every signed checkpoint (stored ones and each --checkpoint file, verified with
    the --key under the origin \`decision-log.origin\`), consecutive checkpoints are consistent;
  - with --since: every TaskRun/PipelineRun in the cluster completed in [since, until) (RFC 3339;
    until defaults to 5 minutes ago; every namespace, or --namespaces: the observer's
    observer.namespaces) has a decision (attested, adopted or refused);
  - with --repository (and --repositories-from-log: every repository the log stored a .att in):
    every .att layer there whose envelope verifies with a --key is in the log.
Prints each finding and exits 1 when there is any, 0 when there is none.`;

export async function auditCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(
    args,
    {
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      key: { type: 'string', multiple: true },
      checkpoint: { type: 'string', multiple: true },
      since: { type: 'string' },
      until: { type: 'string' },
      kubeconfig: { type: 'string' },
      kinds: { type: 'string', default: 'TaskRun,PipelineRun' },
      namespaces: { type: 'string' },
      repository: { type: 'string', multiple: true },
      'repositories-from-log': { type: 'boolean', default: false },
      'insecure-registry': { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const keyFiles = (values.key as string[] | undefined) ?? [];
  if (keyFiles.length === 0)
    throw usage('--key is required (the public key checkpoints and attestations verify with)');
  const keys = keyFiles.map((f) => read(f));
  const path = values.config as string | undefined;
  const config = loadConfig({
    path,
    source: path ? readConfigSource(path) : undefined,
    overrides: parseSets(values.set as string[] | undefined),
  });
  const noteKeys = keys.flatMap((k) => {
    try {
      return [noteKeyOf(config.decisionLogOrigin, k)];
    } catch {
      return [];
    }
  });
  const { caFile, mode } = config.indexTls;
  const index = await indexFromOptions({
    url: config.indexUrl,
    path: config.indexPath,
    tls: { mode, ...(caFile ? { ca: readCa(caFile) } : {}) },
  });
  const findings: Findings = [];
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const walk = await walkLog(
      index,
      noteKeys,
      ((values.checkpoint as string[] | undefined) ?? []).map(read),
      findings,
    );
    say(`log: ${walk.size} entries walked`);
    if (values.since) await auditRuns(values, walk, findings, say);
    const repositories = [
      ...new Set([
        ...((values.repository as string[] | undefined) ?? []),
        ...(values['repositories-from-log'] ? walk.repositories : []),
      ]),
    ];
    if (repositories.length) {
      const ours = await scanRegistry(
        repositories,
        keys,
        walk,
        { insecure: values['insecure-registry'] as boolean },
        findings,
      );
      say(`registry: ${ours} .att layer(s) signed with our keys in ${repositories.length} repositor(ies)`);
    }
  } finally {
    await index.close();
  }
  for (const f of findings) say(`MISSING ${f}`);
  say(findings.length ? `audit FAILED: ${findings.length} finding(s)` : 'audit passed');
  return findings.length ? 1 : 0;
}

/** With --since: the cluster's completed runs each have a decision. */
async function auditRuns(
  values: Record<string, unknown>,
  walk: Awaited<ReturnType<typeof walkLog>>,
  findings: Findings,
  say: (line: string) => void,
): Promise<void> {
  const until = values.until ? time(values.until as string) : new Date(Date.now() - 300_000);
  const range = { since: time(values.since as string), until };
  const connection = new KubeConnection({
    access: loadKubeConfig({ path: values.kubeconfig as string | undefined }),
    limit: new TokenBucket({ qps: 20, burst: 40 }),
  });
  try {
    const kinds = (values.kinds as string).split(',').map((k) => k.trim()) as RunKind[];
    const namespaces = values.namespaces
      ? (values.namespaces as string).split(',').map((n) => n.trim())
      : [undefined];
    const seen = await checkRunCoverage(new RunApi({ connection }), kinds, range, walk, findings, namespaces);
    say(`runs: ${seen} completed between ${range.since.toISOString()} and ${range.until.toISOString()}`);
  } finally {
    await connection.close();
  }
}

function time(text: string): Date {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw usage(`${text} is not an RFC 3339 time`);
  return new Date(t);
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw usage(`reading ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const usage = (message: string) =>
  new ObserverError(`audit: ${message}\n${USAGE}`, { code: 'config_invalid', retryable: false });
