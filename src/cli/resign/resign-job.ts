import { createHash } from 'node:crypto';
import type { AttestOutcome, Attestor } from '../../attest/index.ts';
import type { ChildRun } from '../../formats/index.ts';
import type { AttestationIndex, ResignJobState } from '../../index/index.ts';
import { isRunGone, type RunApi } from '../../kube/index.ts';
import { TRANSPARENCY } from '../../model/index.ts';
import { readChildren, recordAttestation } from '../../reconcile/index.ts';
import type { Signer } from '../../signing/index.ts';
import { describeRun, parseRun, type RunKind, type RunView } from '../../tekton/index.ts';

/** Which runs a resign job re-attests. */
export interface ResignSelection {
  /** empty: every namespace */
  namespaces: string[];
  /** a Kubernetes label selector (`team=a,tier!=test`), passed to the apiserver's list */
  selector?: string;
  /** completionTime in [since, until) */
  since?: Date;
  until?: Date;
  kinds: RunKind[];
}

export interface ResignOptions {
  selection: ResignSelection;
  /** what a current attestation looks like: signed by this key, of this predicate type per kind */
  signer: Signer;
  predicateTypes: Readonly<Partial<Record<RunKind, string>>>;
  /** runs re-attested at once (default 4) */
  concurrency: number;
  /** re-attest at most this many runs in this invocation, then stop with the progress saved */
  limit?: number;
  /** forget the saved progress and start from the first run */
  restart?: boolean;
  /** only count what would be re-attested */
  dryRun?: boolean;
  runApi: Pick<RunApi, 'list' | 'get' | 'patchAnnotations'>;
  index: Pick<
    AttestationIndex,
    | 'getRunRecord'
    | 'findByRun'
    | 'getEnvelope'
    | 'addAttestation'
    | 'findCapturedRun'
    | 'firstChildSighting'
    | 'getResignJob'
    | 'putResignJob'
    | 'deleteResignJob'
  >;
  attestor: Pick<Attestor, 'attest'>;
  /** one line per batch and per failure (stderr) */
  progress: (line: string) => void;
  clock?: () => number;
  /** tests only (the fault hook): called once a run's attestation is stored, before the index records it */
  afterStored?: () => void;
}

export type RunVerdict = 'resigned' | 'current' | 'skipped' | 'failed' | 'would-resign';

/** Runs listed per page. */
const PAGE = 100;

/**
 * `provenance-observer resign`: re-attests the selected runs after a key rotation or a format
 * change, so each carries an attestation signed with the active key in the configured format.
 * Bounded: `concurrency` runs at a time, at most `limit` per invocation. Idempotent: a run whose
 * index already holds an attestation by the active key of the configured predicate type is
 * `current` and left alone (and storing is idempotent per payload and key, so a run re-attested
 * by a killed invocation adds no second layer). Resumable: after every batch the job's cursor (the
 * last run finished, in list order: kind, then namespace and name as the apiserver lists them) and
 * counts are saved in the index under the job's id (selection, key id, formats); the next
 * invocation with the same selection continues after it. Runs the index does not hold as attested
 * are skipped: the observer attests those itself.
 */
export async function runResignJob(o: ResignOptions): Promise<ResignJobState> {
  const clock = o.clock ?? Date.now;
  const id = resignJobId(o);
  if (o.restart) await o.index.deleteResignJob(id);
  const saved = await o.index.getResignJob(id);
  const job: ResignJobState = saved ?? {
    id,
    selection: JSON.stringify(o.selection),
    resigned: 0,
    current: 0,
    failed: 0,
    updatedAt: new Date(clock()),
  };
  o.progress(
    saved?.cursor
      ? `resign: job ${id.slice(0, 12)} continues after ${saved.cursor}`
      : `resign: job ${id.slice(0, 12)} starts`,
  );
  let done = 0;
  for await (const batch of batches(o, job.cursor)) {
    if (o.limit !== undefined && done >= o.limit) break;
    const take = o.limit === undefined ? batch : batch.slice(0, o.limit - done);
    const verdicts = await Promise.all(take.map((run) => resignOne(o, run)));
    for (const v of verdicts) if (v === 'resigned' || v === 'would-resign') done++;
    tally(job, verdicts);
    const last = take[take.length - 1];
    if (o.dryRun) continue;
    if (last) job.cursor = cursorOf(last);
    job.updatedAt = new Date(clock());
    await o.index.putResignJob(job);
    o.progress(
      `resign: ${job.resigned} re-signed, ${job.current} current, ${job.failed} failed (at ${job.cursor})`,
    );
  }
  return job;
}

function tally(job: ResignJobState, verdicts: RunVerdict[]): void {
  for (const v of verdicts) {
    if (v === 'resigned' || v === 'would-resign') job.resigned++;
    else if (v === 'current') job.current++;
    else if (v === 'failed') job.failed++;
  }
}

/** The job's id: its selection and what "current" means (the active key and the formats). */
export function resignJobId(o: Pick<ResignOptions, 'selection' | 'signer' | 'predicateTypes'>): string {
  const what = { selection: o.selection, keyId: o.signer.keyId, predicateTypes: o.predicateTypes };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

const cursorOf = (run: RunView) => `${run.kind}/${run.ref.namespace}/${run.ref.name}`;

/** Whether `run` comes after `cursor` in the job's order (kinds in selection order, then namespace, name). */
function after(o: ResignOptions, run: RunView, cursor: string | undefined): boolean {
  if (!cursor) return true;
  const [kind, namespace, name] = cursor.split('/') as [RunKind, string, string];
  const byKind = o.selection.kinds.indexOf(run.kind) - o.selection.kinds.indexOf(kind);
  if (byKind !== 0) return byKind > 0;
  if (run.ref.namespace !== namespace) return run.ref.namespace > namespace;
  return run.ref.name > name;
}

/** The selected finished runs after `cursor`, `concurrency` at a time, in the job's order. */
async function* batches(o: ResignOptions, cursor: string | undefined): AsyncGenerator<RunView[]> {
  const { since, until } = o.selection;
  let batch: RunView[] = [];
  for (const kind of o.selection.kinds)
    for (const namespace of o.selection.namespaces.length
      ? [...o.selection.namespaces].sort()
      : [undefined]) {
      let continueToken: string | undefined;
      do {
        const page = await o.runApi.list(kind, {
          ...(namespace ? { namespace } : {}),
          limit: PAGE,
          ...(continueToken ? { continueToken } : {}),
          ...(o.selection.selector ? { labelSelector: o.selection.selector } : {}),
        });
        continueToken = page.continueToken;
        for (const object of page.items) {
          const run = readable(o, object, kind);
          const at = run?.completedAt;
          if (!run?.done || at === undefined || !after(o, run, cursor)) continue;
          if ((since && at < since.getTime()) || (until && at >= until.getTime())) continue;
          batch.push(run);
          if (batch.length >= o.concurrency) {
            yield batch;
            batch = [];
          }
        }
      } while (continueToken);
    }
  if (batch.length > 0) yield batch;
}

/** The run, or undefined (said on the progress output) when it is not a run we can read. */
function readable(o: ResignOptions, object: unknown, kind: RunKind): RunView | undefined {
  try {
    return parseRun(object, kind);
  } catch (err) {
    o.progress(`resign: skipping a ${kind}: ${(err as Error).message}`);
    return undefined;
  }
}

/** One run: current, skipped, or re-attested (signed, stored, recorded, the run's mark updated). */
async function resignOne(o: ResignOptions, view: RunView): Promise<RunVerdict> {
  const run = view.ref;
  const predicateType = o.predicateTypes[run.kind];
  if (!predicateType || (await o.index.getRunRecord(run.uid))?.status !== 'attested') return 'skipped';
  const records = await o.index.findByRun({ namespace: run.namespace, kind: run.kind, name: run.name });
  const current = records.some(
    (r) =>
      r.run.uid === run.uid &&
      r.keyId === o.signer.keyId &&
      r.predicateType === predicateType &&
      (r.origin ?? 'observer') === 'observer',
  );
  if (current) return 'current';
  if (o.dryRun) return 'would-resign';
  try {
    const children: ChildRun[] =
      view.kind === 'PipelineRun' ? await readChildren(o.runApi, o.index, view) : [];
    const outcome = await o.attestor.attest(run, view.object, children, o.signer);
    if (!outcome.ok) throw new Error(failuresOf(outcome));
    o.afterStored?.();
    // the same statement under the retired key's envelope is what resign replaces: record this one too
    await recordAttestation(o.index, run, outcome, o.signer, (o.clock ?? Date.now)(), false);
    await mark(o, view, outcome);
    return 'resigned';
  } catch (err) {
    o.progress(`resign: ${describeRun(run)} failed: ${(err as Error).message}`);
    return 'failed';
  }
}

/** The run's annotations as the tekton marker wants them now (new payload and signature). */
async function mark(o: ResignOptions, view: RunView, outcome: AttestOutcome): Promise<void> {
  const marks = Object.assign(
    {},
    ...outcome.results.map((r) => (r.result.ok ? (r.result.runAnnotations ?? {}) : {})),
    outcome.transparencyUrl ? { [TRANSPARENCY]: outcome.transparencyUrl } : {},
  ) as Record<string, string | null>;
  if (Object.keys(marks).length === 0) return;
  try {
    await o.runApi.patchAnnotations(view.ref, marks, view.ref.uid);
  } catch (err) {
    if (!isRunGone(err)) throw err;
  }
}

function failuresOf(outcome: AttestOutcome): string {
  return outcome.results.flatMap((r) => (r.result.ok ? [] : [r.result.error.message])).join('; ');
}
