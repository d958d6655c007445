import type { Logger } from '../../observability/index.ts';

/** One readiness check's answer, as `/readyz` shows it. */
export interface HealthStatus {
  ok: boolean;
  message?: string | undefined;
}

/**
 * A part of the running service (controller-runtime's Runnable): started in order, stopped in
 * reverse. `health` names the readiness checks it answers for.
 */
export interface Part {
  name: string;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
  health?(): Record<string, HealthStatus>;
}

export interface StartedParts {
  /** every part's readiness checks, in start order */
  health(): Record<string, HealthStatus>;
  /** stops every started part in reverse order; a second call waits for the first */
  stop(): Promise<void>;
}

/**
 * Starts `parts` in order. When one fails to start, the parts started before it are stopped in
 * reverse order and its error is thrown: nothing is left running or open. A part's failure to stop
 * is logged and does not keep the others from stopping.
 */
export async function startParts(parts: readonly Part[], logger: Logger): Promise<StartedParts> {
  const started: Part[] = [];
  const stopAll = async () => {
    for (const part of [...started].reverse()) {
      try {
        await part.stop?.();
      } catch (err) {
        logger.warn({ part: part.name, err: (err as Error).message }, 'stopping a part failed');
      }
    }
  };
  for (const part of parts) {
    try {
      await part.start?.();
    } catch (err) {
      logger.error(
        { part: part.name, err: (err as Error).message },
        'a part failed to start; stopping the others',
      );
      await stopAll();
      throw err;
    }
    started.push(part);
  }
  let stopped: Promise<void> | undefined;
  return {
    health: () => Object.assign({}, ...parts.map((p) => p.health?.() ?? {})),
    stop: () => {
      stopped ??= stopAll();
      return stopped;
    },
  };
}
