import type { KubeConfig } from '@kubernetes/client-node';
import { forEachLimited, type ImageFactory } from './image-factory.ts';
import { createRun, deleteRun, type Kind, setRunStatus, succeededTaskRunStatus } from './tekton.ts';

/** One run the stream created: what it named, and whether it was deleted right after completing. */
export interface StreamedRun {
  kind: Kind;
  name: string;
  uid: string;
  image: { ref: string; digest: string };
  deleted: boolean;
}

export interface RunStreamOptions {
  admin: KubeConfig;
  namespace: string;
  images: ImageFactory;
  taskRuns: number;
  /** each PipelineRun owns one of the TaskRuns (every `taskRuns / pipelineRuns`-th) and names its image */
  pipelineRuns: number;
  /** every `deleteEvery`-th run of each kind is deleted as soon as it completed (0: none) */
  deleteEvery: number;
  concurrency: number;
  /** called as each run completes (and, for every `deleteEvery`-th, is deleted) */
  progress?: (run: StreamedRun) => void;
}

/**
 * Plays Tekton and its tenants for a stream of builds: each TaskRun gets an image of its own
 * (pushed just before) and completes naming it through the IMAGE_URL/IMAGE_DIGEST type hints; a
 * PipelineRun is created before its child TaskRun (owned by it, labelled as Tekton does), completes
 * after it with the same image in its results. Every `deleteEvery`-th run is deleted right after
 * completing (children of PipelineRuns are never the ones deleted).
 */
export async function streamRuns(o: RunStreamOptions): Promise<StreamedRun[]> {
  const runs: StreamedRun[] = [];
  const stride = Math.max(1, Math.floor(o.taskRuns / Math.max(1, o.pipelineRuns)));
  const deleted = (i: number) => o.deleteEvery > 0 && i % o.deleteEvery === o.deleteEvery - 1;
  await forEachLimited(o.taskRuns, o.concurrency, async (i) => {
    const pipeline = i % stride === 0 && i / stride < o.pipelineRuns ? i / stride : undefined;
    const name = `build-${i}`;
    const image = await pushThroughRestarts(o.images, name);
    const add = (run: StreamedRun) => {
      runs.push(run);
      o.progress?.(run);
    };
    if (pipeline === undefined) {
      add(await completeTaskRun(o, name, image, {}, deleted(i)));
    } else {
      const pr = `pipeline-${pipeline}`;
      const created = await createRun(o.admin, 'PipelineRun', o.namespace, pr, {
        pipelineRef: { name: 'docker-build' },
      });
      const owner = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', name: pr, uid: created.metadata.uid };
      const metadata = {
        labels: { 'tekton.dev/pipelineRun': pr, 'tekton.dev/pipelineTask': 'build' },
        ownerReferences: [owner],
      };
      add(await completeTaskRun(o, name, image, metadata, false));
      await setRunStatus(o.admin, 'PipelineRun', o.namespace, pr, pipelineRunStatus(name, image));
      const gone = deleted(pipeline);
      if (gone) await deleteRun(o.admin, 'PipelineRun', o.namespace, pr);
      add({ kind: 'PipelineRun', name: pr, uid: created.metadata.uid, image, deleted: gone });
    }
  });
  return runs;
}

async function completeTaskRun(
  o: RunStreamOptions,
  name: string,
  image: { ref: string; digest: string },
  metadata: object,
  remove: boolean,
): Promise<StreamedRun> {
  const created = await createRun(
    o.admin,
    'TaskRun',
    o.namespace,
    name,
    { taskRef: { name: 'buildah' } },
    metadata,
  );
  await setRunStatus(
    o.admin,
    'TaskRun',
    o.namespace,
    name,
    succeededTaskRunStatus([
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ]),
  );
  if (remove) await deleteRun(o.admin, 'TaskRun', o.namespace, name);
  return { kind: 'TaskRun', name, uid: created.metadata.uid, image, deleted: remove };
}

function pipelineRunStatus(child: string, image: { ref: string; digest: string }) {
  return {
    conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }],
    startTime: '2026-11-26T10:00:00Z',
    completionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    pipelineSpec: { tasks: [{ name: 'build', taskRef: { name: 'buildah' } }] },
    childReferences: [
      { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name: child, pipelineTaskName: 'build' },
    ],
    results: [
      { name: 'IMAGE_URL', value: image.ref },
      { name: 'IMAGE_DIGEST', value: image.digest },
    ],
  };
}

/**
 * Pushes like a build that retries: the chaos test restarts the registry while runs stream, and a
 * build pushing at that moment tries again rather than failing the stream. Gives up after 60 s.
 */
async function pushThroughRestarts(
  images: ImageFactory,
  name: string,
): Promise<{ ref: string; digest: string }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await images.push(name);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      // poll interval while the registry is down (a bounded retry, not a wait for state)
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
