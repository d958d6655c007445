import { LogCheckpointer } from '../../index/index.ts';
import { CheckpointConfigMapWriter } from '../../kube/index.ts';
import type { ObserverDeps } from '../observer.ts';
import type { Core } from './core.ts';
import type { Part } from './parts.ts';

/**
 * The decision log's checkpoints (docs/log.md): signed every `decision-log.checkpoint-seconds`
 * when the log grew (0: only on demand through the API), with the platform key. A failure (no key
 * loaded, a key that cannot sign notes) is logged once per change and retried at the next tick.
 * Each tick also copies the newest checkpoint into the `decision-log.configmap` ConfigMap.
 */
export function checkpointParts(
  deps: ObserverDeps,
  core: Core,
): { checkpointer: LogCheckpointer; parts: Part[] } {
  const { config, logger } = deps;
  const checkpointer = new LogCheckpointer({
    log: core.index,
    origin: config.decisionLogOrigin,
    signer: () => core.signing.active(),
    clock: Date.now,
  });
  const name = config.checkpointConfigMap;
  const configMap = name
    ? new CheckpointConfigMapWriter({
        connection: core.connection,
        name,
        namespace: config.signingSecret.namespace,
      })
    : undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';
  const tick = async () => {
    try {
      const c = await checkpointer.checkpoint();
      if (await configMap?.publish(c.note))
        logger.debug({ size: c.size }, `checkpoint published in ConfigMap ${configMap?.describe()}`);
      if (lastError) logger.info({ size: c.size }, 'decision log checkpoint signed again');
      lastError = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastError)
        logger.warn({ err: message }, `decision log checkpoint not signed: ${message}`);
      lastError = message;
    }
  };
  const seconds = config.checkpointSeconds;
  return {
    checkpointer,
    parts: [
      {
        name: 'log-checkpoints',
        start: () => {
          if (seconds > 0) timer = setInterval(() => void tick(), seconds * 1000).unref();
        },
        stop: () => clearInterval(timer),
      },
    ],
  };
}
