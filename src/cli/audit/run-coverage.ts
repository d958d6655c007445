import type { RunApi } from '../../kube/index.ts';
import { isDone, type RunKind, type RunStatusCommon } from '../../tekton/index.ts';
import type { Findings, LogWalk } from './log-walk.ts';

/** Decisions that settle a run: it was attested, its envelope adopted, or it was refused. */
const SETTLED = ['attested', 'adopted', 'refused'];

/**
 * Every run of `kinds` in the cluster (or in `namespaces`, the observer's `observer.namespaces`) that completed in [since, until) has a settling decision in
 * the log. Runs deleted from the cluster are not seen (the log still holds theirs); runs finished
 * moments ago may not be decided yet, so pick `until` a few minutes back.
 */
export async function checkRunCoverage(
  runApi: Pick<RunApi, 'list'>,
  kinds: readonly RunKind[],
  range: { since: Date; until: Date },
  walk: LogWalk,
  findings: Findings,
  namespaces: readonly (string | undefined)[] = [undefined],
): Promise<number> {
  let seen = 0;
  for (const kind of kinds)
    for (const namespace of namespaces) {
      let continueToken: string | undefined;
      do {
        const page = await runApi.list(kind, {
          limit: 500,
          continueToken,
          ...(namespace ? { namespace } : {}),
        });
        for (const run of page.items) {
          const completed = (run.status as RunStatusCommon | undefined)?.completionTime;
          const done = completed ? Date.parse(completed) : Number.NaN;
          if (
            !isDone(run as { status?: RunStatusCommon }) ||
            !(done >= range.since.getTime() && done < range.until.getTime())
          )
            continue;
          seen++;
          const types = walk.runs.get(run.metadata.uid);
          if (!types || !SETTLED.some((t) => types.has(t)))
            findings.push(
              `${kind} ${run.metadata.namespace}/${run.metadata.name} (uid ${run.metadata.uid}, completed ${completed}) has no decision in the log`,
            );
        }
        continueToken = page.continueToken;
      } while (continueToken);
    }
  return seen;
}
