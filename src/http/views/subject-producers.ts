import type { AttestationReader, AttestationSummary, RunCaptures } from '../../index/index.ts';
import { childReferencesOf, type PipelineRun } from '../../tekton/index.ts';

export type ProducerSource = Pick<AttestationReader, 'findByRun'> & Pick<RunCaptures, 'findCapturedRun'>;

/**
 * Which task of a PipelineRun produced each subject, read from what the index already holds: the
 * PipelineRun's captured copy names its child TaskRuns (`status.childReferences`, with their
 * pipeline task names), and each child's own attestations name the digests it built. A subject
 * whose digest a child attested is "produced by" that child: `<pipelineTask> (TaskRun <name>)`.
 * Empty when the copy is gone (pruned after the run was deleted) or for TaskRuns. The children are
 * in the PipelineRun's namespace, which the caller may already read (its status lists them).
 */
export async function subjectProducers(
  source: ProducerSource | undefined,
  a: { run: Pick<AttestationSummary['run'], 'kind' | 'namespace' | 'name'> },
): Promise<Map<string, string>> {
  const producers = new Map<string, string>();
  if (!source || a.run.kind !== 'PipelineRun') return producers;
  const capture = await source.findCapturedRun({
    kind: 'PipelineRun',
    namespace: a.run.namespace,
    name: a.run.name,
  });
  if (!capture) return producers;
  const children = childReferencesOf(capture.object as unknown as PipelineRun).filter(
    (c) => (c.kind ?? 'TaskRun') === 'TaskRun' && c.name,
  );
  const attested = await Promise.all(
    children.map((c) => source.findByRun({ kind: 'TaskRun', namespace: a.run.namespace, name: c.name })),
  );
  children.forEach((c, i) => {
    for (const att of attested[i] ?? [])
      for (const s of att.subjects)
        if (!producers.has(s.digest))
          producers.set(s.digest, `${c.pipelineTaskName ?? c.name} (TaskRun ${c.name})`);
  });
  return producers;
}
