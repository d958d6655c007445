import type { FaultHook } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';
import type { SignatureResult, Signer } from '../../signing/index.ts';

/**
 * The signer the reconciler signs with, through the fault hook (tests only; `active` itself when
 * no fault is set). With `stall-signing` every signature waits until the process receives SIGUSR2
 * and then fails, not retryable (an HSM session that hung and was reset): the attempt holds its
 * run's claim for as long as the test wants. Signatures asked for after SIGUSR2 are made as usual.
 */
export function faultSigner(
  fault: FaultHook | undefined,
  logger: Logger,
  active: () => Signer | undefined,
): () => Signer | undefined {
  if (fault !== 'stall-signing') return active;
  logger.warn('test fault hook armed: signatures wait for SIGUSR2, then fail');
  let released = false;
  const release = new Promise<void>((resolve) =>
    process.once('SIGUSR2', () => {
      released = true;
      logger.warn('test fault hook: SIGUSR2, the stalled signatures fail now');
      resolve();
    }),
  );
  const stalled = async (): Promise<SignatureResult> => {
    logger.warn('test fault hook: a signature waits for SIGUSR2');
    await release;
    throw new ObserverError('signing stalled and was reset (test fault hook stall-signing)', {
      code: 'signing',
      retryable: false,
    });
  };
  return () => {
    const signer = active();
    if (!signer || released) return signer;
    return new Proxy(signer, {
      get(target, property) {
        if (property === 'sign' && !released) return stalled;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}
