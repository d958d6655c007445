import { describe, expect, it } from 'vitest';
import { type Part, startParts } from '../../../src/cli/compose/parts.ts';
import { createLogger } from '../../../src/observability/index.ts';

const logger = createLogger({ level: 'silent' });

/** Parts that write what they do into `log`; `fail` names the one whose start throws. */
function parts(log: string[], names: string[], fail?: string): Part[] {
  return names.map((name) => ({
    name,
    start: () => {
      if (name === fail) throw new Error(`${name} cannot start`);
      log.push(`start ${name}`);
    },
    stop: () => {
      log.push(`stop ${name}`);
    },
    health: () => ({ [name]: { ok: true } }),
  }));
}

describe('startParts', () => {
  it('starts in order and stops in reverse; a second stop waits for the first', async () => {
    const log: string[] = [];
    const running = await startParts(parts(log, ['index', 'keys', 'controller']), logger);
    expect(Object.keys(running.health())).toEqual(['index', 'keys', 'controller']);
    await Promise.all([running.stop(), running.stop()]);
    expect(log).toEqual([
      'start index',
      'start keys',
      'start controller',
      'stop controller',
      'stop keys',
      'stop index',
    ]);
  });

  it('a part that fails to start stops the ones started before it, in reverse, and throws its error', async () => {
    const log: string[] = [];
    await expect(
      startParts(parts(log, ['index', 'keys', 'api', 'controller'], 'api'), logger),
    ).rejects.toThrow('api cannot start');
    expect(log).toEqual(['start index', 'start keys', 'stop keys', 'stop index']);
  });

  it('a part that fails to stop does not keep the others from stopping', async () => {
    const log: string[] = [];
    const all = parts(log, ['index', 'keys']);
    (all[1] as Part).stop = () => {
      throw new Error('keys stuck');
    };
    const running = await startParts(all, logger);
    await running.stop();
    expect(log).toEqual(['start index', 'start keys', 'stop index']);
  });
});
