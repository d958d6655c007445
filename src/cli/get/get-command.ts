import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { apiToken, type TokenChoice } from './api-token.ts';
import { LookupClient } from './lookup-client.ts';
import {
  type AttestationSummary,
  attestationsTable,
  type KeysAnswer,
  keysTable,
  type RunAnswer,
  runTable,
} from './tables.ts';

const USAGE = `usage: provenance-observer get <what> [<name>] [options]

what:
  taskrun <name> | pipelinerun <name>   a run's state and attestations (namespace: -n)
  run <namespace>/<name>                the same, TaskRun or PipelineRun
  attestations --digest <alg:hex>       every attestation of an artifact digest (all pages)
  attestation <id>                      one attestation
  envelope <id>                         its DSSE envelope, exactly as stored (always JSON)
  keys                                  the published public keys (no token needed); with -n,
                                        that namespace's tenant keys first (signing.tenant-keys)

options:
  --server <url>                   the lookup API (default ${'https://provenance-observer.provenance-observer.svc:8443'})
  --ca-file <pem>                  trust this CA for the API's certificate (default: the system's)
  --kubeconfig <file>              default KUBECONFIG, ~/.kube/config, then in-cluster
  -n, --namespace <ns>             for taskrun/pipelinerun, and keys (default: the kubeconfig context's, else "default")
  --service-account <ns>/<name>    mint an audience-bound token for this ServiceAccount (TokenRequest
                                   with the kubeconfig's credentials); default: the kubeconfig's own token
  --audience <aud>                 the API's audience (default provenance-observer, api.audiences)
  -o, --output table|json          default table; json prints the API's answer`;

const DEFAULT_SERVER = 'https://provenance-observer.provenance-observer.svc:8443';
const MAX_PAGES = 50;

type Values = Record<string, string | boolean | undefined>;

export async function getCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [what, name, ...extra] = positionals;
  if (!what || extra.length > 0) throw usage(what ? `unexpected ${extra.join(' ')}` : 'what to get?');
  const output = (values.output as string | undefined) ?? 'table';
  if (output !== 'table' && output !== 'json') throw usage(`-o ${output}: expected table or json`);
  const ca = values['ca-file'] ? readFileSync(values['ca-file'] as string, 'utf8') : undefined;
  const server = (values.server as string | undefined) ?? DEFAULT_SERVER;
  const access =
    what === 'keys' ? undefined : loadKubeConfig({ path: values.kubeconfig as string | undefined });
  const token = access ? await apiToken(access, tokenChoice(values)) : undefined;
  const client = new LookupClient({ server, ...(ca ? { ca } : {}), ...(token ? { token } : {}) });
  try {
    const namespace = (values.namespace as string | undefined) ?? access?.namespace ?? 'default';
    const printed = await fetchAndFormat(client, what, name, {
      namespace,
      digest: values.digest as string,
      keysOf: values.namespace as string | undefined,
    });
    process.stdout.write(
      output === 'json' || printed.table === undefined ? json(printed.answer) : printed.table,
    );
    return 0;
  } finally {
    await client.close();
  }
}

interface Printed {
  answer: unknown;
  /** undefined: JSON only (the envelope) */
  table?: string;
}

async function fetchAndFormat(
  client: LookupClient,
  what: string,
  name: string | undefined,
  o: { namespace: string; digest?: string; keysOf?: string | undefined },
): Promise<Printed> {
  switch (what) {
    case 'keys': {
      const query = o.keysOf ? `?namespace=${encodeURIComponent(o.keysOf)}` : '';
      const answer = await client.get<KeysAnswer>(`/api/v1/keys${query}`);
      return { answer, table: keysTable(answer) };
    }
    case 'taskrun':
    case 'pipelinerun': {
      const answer = await client.get<RunAnswer>(runPath(o.namespace, `${what}s`, needed(name, what)));
      return { answer, table: runTable(answer) };
    }
    case 'run': {
      const [namespace, runName] = needed(name, 'run').split('/');
      if (!namespace || !runName) throw usage('run: expected <namespace>/<name>');
      const answer = await client
        .get<RunAnswer>(runPath(namespace, 'taskruns', runName))
        .catch((err) =>
          err instanceof ObserverError && err.code === 'not_found'
            ? client.get<RunAnswer>(runPath(namespace, 'pipelineruns', runName))
            : Promise.reject(err),
        );
      return { answer, table: runTable(answer) };
    }
    case 'attestations': {
      if (!o.digest) throw usage('attestations: --digest is required');
      const items = await allPages(client, o.digest);
      return { answer: { items }, table: attestationsTable(items) };
    }
    case 'attestation': {
      const answer = await client.get<AttestationSummary>(`/api/v1/attestations/${id(name)}`);
      return { answer, table: attestationsTable([answer]) };
    }
    case 'envelope':
      return { answer: await client.get<unknown>(`/api/v1/attestations/${id(name)}/envelope`) };
    default:
      throw usage(`cannot get "${what}"`);
  }
}

/** Follows `next` (bounded: MAX_PAGES pages of 100). */
async function allPages(client: LookupClient, digest: string): Promise<AttestationSummary[]> {
  const items: AttestationSummary[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query = new URLSearchParams({ digest, limit: '100', ...(cursor ? { cursor } : {}) });
    const answer = await client.get<{ items: AttestationSummary[]; next?: string }>(
      `/api/v1/attestations?${query}`,
    );
    items.push(...answer.items);
    cursor = answer.next;
    if (!cursor) break;
  }
  return items;
}

function tokenChoice(values: Values): TokenChoice {
  const sa = values['service-account'] as string | undefined;
  if (!sa) return { kind: 'kubeconfig' };
  const [namespace, name, ...rest] = sa.split('/');
  if (!namespace || !name || rest.length > 0) throw usage('--service-account: expected <namespace>/<name>');
  const audience = (values.audience as string | undefined) ?? 'provenance-observer';
  return { kind: 'service-account', namespace, name, audience, seconds: 600 };
}

const enc = encodeURIComponent;
const runPath = (ns: string, plural: string, name: string) =>
  `/api/v1/runs/${enc(ns)}/${plural}/${enc(name)}`;
const id = (name: string | undefined) => enc(needed(name, 'attestation id'));
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

function needed(value: string | undefined, what: string): string {
  if (!value) throw usage(`${what}: a name is required`);
  return value;
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        server: { type: 'string' },
        'ca-file': { type: 'string' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        'service-account': { type: 'string' },
        audience: { type: 'string' },
        output: { type: 'string', short: 'o' },
        digest: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw usage((err as Error).message);
  }
}

function usage(message: string): ObserverError {
  return new ObserverError(`${message}\n${USAGE}`, { code: 'config_invalid', retryable: false });
}
