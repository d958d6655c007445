import { signPolicyStatement } from '../../attest/index.ts';
import type { ObserverConfig } from '../../config/index.ts';
import { buildPolicyStatement, policyVersion } from '../../formats/index.ts';
import { CheckpointConfigMapWriter } from '../../kube/index.ts';
import type { Signer } from '../../signing/index.ts';
import type { ObserverDeps } from '../observer.ts';
import type { Core } from './core.ts';
import type { Part } from './parts.ts';

/** How often the publisher looks whether the statement needs signing again. */
export const POLICY_STATEMENT_TICK_MS = 30_000;

export interface PolicyStatementPublisherOptions {
  /** the config in force (LiveConfig's view): the policy, and the validity read per refresh */
  config: Pick<ObserverConfig, 'subjectPolicy' | 'policyStatementValiditySeconds'>;
  /** the platform key; undefined while none is loaded (keyless cannot sign it) */
  signer: () => Signer | undefined;
  clock: () => number;
  /** where the envelope is copied for verifiers (the `policy-statement.configmap` ConfigMap) */
  configMap?: Pick<CheckpointConfigMapWriter, 'publish' | 'describe'>;
}

interface Signed {
  envelopeJson: string;
  version: string;
  keyId: string;
  validitySeconds: number;
  issuedAt: number;
}

/**
 * Keeps a signed subject policy statement (formats/policy-statement.ts) of the policy in force:
 * signs one when there is none, when the policy, the platform key or
 * `policy-statement.validity-seconds` changed, and when half its validity has passed, so a copy
 * taken any time is valid for at least half the validity. Each refresh also copies it into the
 * ConfigMap (written only when it changed). Fails with a clear message when no key is loaded.
 */
export class PolicyStatementPublisher {
  readonly #o: PolicyStatementPublisherOptions;
  #signed: Signed | undefined;

  constructor(options: PolicyStatementPublisherOptions) {
    this.#o = options;
  }

  /** The newest signed statement (DSSE envelope JSON), or undefined before the first signing. */
  current(): string | undefined {
    return this.#signed?.envelopeJson;
  }

  /** Signs again when needed, then publishes; returns whether it signed. */
  async refresh(): Promise<boolean> {
    const { config, clock, configMap } = this.#o;
    const signer = this.#o.signer();
    if (!signer?.publicKeyPem)
      throw new Error(
        'signing the subject policy statement: no signing key is loaded (keyless cannot sign it)',
      );
    const now = clock();
    const validitySeconds = config.policyStatementValiditySeconds;
    const policy = config.subjectPolicy;
    const s = this.#signed;
    const due =
      !s ||
      s.keyId !== signer.keyId ||
      s.version !== policyVersion(policy.rules) ||
      s.validitySeconds !== validitySeconds ||
      now - s.issuedAt >= (validitySeconds * 1000) / 2;
    if (due) {
      const statement = buildPolicyStatement(policy, { issuedAt: new Date(now), validitySeconds });
      const signed = await signPolicyStatement(statement, signer);
      this.#signed = {
        envelopeJson: Buffer.from(signed.envelopeBytes).toString('utf8'),
        version: statement.statement.predicate.version,
        keyId: signer.keyId,
        validitySeconds,
        issuedAt: now,
      };
    }
    await configMap?.publish(this.#signed?.envelopeJson ?? '');
    return due;
  }
}

/**
 * The publisher as a part: refreshed at start, every POLICY_STATEMENT_TICK_MS and when the config
 * reloader applied a change (`onConfigApplied`); a failure (no key yet, the ConfigMap missing) is
 * logged once per change and retried at the next tick.
 */
export function policyStatementParts(
  deps: ObserverDeps,
  config: ObserverConfig,
  core: Pick<Core, 'signing' | 'connection'>,
): { publisher: PolicyStatementPublisher; parts: Part[]; onConfigApplied: () => void } {
  const { logger } = deps;
  const name = config.policyStatementConfigMap;
  const publisher = new PolicyStatementPublisher({
    config,
    signer: () => core.signing.active(),
    clock: Date.now,
    ...(name
      ? {
          configMap: new CheckpointConfigMapWriter({
            connection: core.connection,
            name,
            namespace: config.signingSecret.namespace,
            entry: 'statement',
            what: 'the subject policy statement',
            manifest: 'deploy/base/27-subject-policy-statement.yaml',
          }),
        }
      : {}),
  });
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';
  const tick = async () => {
    try {
      if (await publisher.refresh()) logger.info('subject policy statement signed');
      lastError = '';
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastError) logger.warn({ err: message }, `subject policy statement: ${message}`);
      lastError = message;
    }
  };
  return {
    publisher,
    onConfigApplied: () => void tick(),
    parts: [
      {
        name: 'policy-statement',
        start: () => {
          void tick();
          timer = setInterval(() => void tick(), POLICY_STATEMENT_TICK_MS).unref();
        },
        stop: () => clearInterval(timer),
      },
    ],
  };
}
