import type { ObserverConfig } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import {
  type KubeConnection,
  type NamespaceLabels,
  PublicKeySecretWriter,
  SecretReader,
} from '../../kube/index.ts';
import type { AttemptContext } from '../../model/index.ts';
import type { Logger, Metrics } from '../../observability/index.ts';
import {
  type PublicKeyInfo,
  type TenantKeySource,
  TenantKeys,
  type TenantSigner,
} from '../../signing/index.ts';
import { describeRun, type RunRef } from '../../tekton/index.ts';
import { KeyRefresher } from '../key-refresher.ts';
import { PublicKeyPublisher } from '../public-key-publisher.ts';
import type { Part } from './parts.ts';

/** `signing.tenant-keys` put together: the keys, their Secret pollers, and the lookups on them. */
export interface TenantKeyParts {
  keys: TenantKeys;
  /** undefined when no tenant keys are configured (nothing changes for anyone) */
  signerFor?: (run: RunRef, context?: AttemptContext) => Promise<TenantSigner | undefined>;
  keysOf?: (namespace: string) => Promise<{ tenant: string; keys: PublicKeyInfo[] } | undefined>;
  /** why the run's tenant key cannot sign now (the reconciler waits, counting no attempt) */
  keyMissing?: (run: RunRef, context?: AttemptContext) => Promise<ObserverError | undefined>;
  part: Part;
}

/**
 * One KeyRefresher per tenant, each polling its own Secret in the observer's namespace (the only
 * Secrets it may read: tenants reach none of them) every `signing.secret.poll-seconds`, so one
 * tenant's rotation reloads that tenant alone; with `publicKeySecret`, its keys are published in
 * that Secret (in `signing.public-key-secret.namespace`) after every poll.
 */
export function tenantKeyParts(
  config: ObserverConfig,
  connection: KubeConnection,
  labels: Pick<NamespaceLabels, 'get'>,
  deps: { logger: Logger; metrics: Metrics },
): TenantKeyParts {
  const keys = new TenantKeys(config.tenantKeys, config);
  const refreshers = keys.all().map((tenant) => refresherFor(tenant, config, connection, deps));
  const labelsOf = (namespace: string, context?: AttemptContext) =>
    keys.rules.needsLabels ? labels.get(namespace, context) : Promise.resolve({});
  const configured = keys.rules.rules.length > 0;
  const signerFor = async (run: RunRef, context?: AttemptContext) => {
    const labels = await labelsOf(run.namespace, context);
    try {
      return keys.signerFor(run.namespace, labels);
    } catch (err) {
      if (!(err instanceof ObserverError)) throw err;
      // the message names the run, as every signing failure does
      throw new ObserverError(`signing ${describeRun(run)}: ${err.message}`, {
        code: err.code,
        retryable: err.retryable,
        cause: err,
      });
    }
  };
  return {
    keys,
    ...(configured
      ? {
          signerFor,
          keyMissing: (run, context) =>
            signerFor(run, context).then(
              () => undefined,
              // a namespace label read that failed is the attempt's to retry, not a missing key
              (err: unknown) =>
                err instanceof ObserverError && err.code === 'key_unavailable' ? err : undefined,
            ),
          keysOf: async (namespace) => {
            const ls = await labelsOf(namespace);
            const tenant = keys.tenantOf(namespace, ls);
            return tenant ? { tenant, keys: keys.publicKeysFor(namespace, ls) } : undefined;
          },
        }
      : {}),
    part: {
      name: 'tenant-keys',
      start: async () => {
        // a token key opens now, whether or not its Secret of retired keys exists or may be read
        const tokens = keys.all().filter(({ rule }) => 'kmsref' in rule.key);
        await Promise.all(tokens.map(({ source }) => source.reload({})));
        await Promise.all(refreshers.map((r) => r.start()));
      },
      stop: () => {
        for (const r of refreshers) r.stop();
        keys.close();
      },
    },
  };
}

/** The poller of one tenant's Secret, publishing its keys after each poll when it has a publicKeySecret. */
function refresherFor(
  { rule, secret, source }: TenantKeySource,
  config: ObserverConfig,
  connection: KubeConnection,
  deps: { logger: Logger; metrics: Metrics },
): KeyRefresher {
  const logger = deps.logger.child({ tenant: rule.name });
  const publisher = rule.publicKeySecret
    ? new PublicKeyPublisher({
        writer: new PublicKeySecretWriter({
          connection,
          name: rule.publicKeySecret,
          namespace: config.publicKeySecret.namespace ?? config.signingSecret.namespace,
        }),
        publicKeys: () => source.publicKeys(),
        logger,
      })
    : undefined;
  return new KeyRefresher({
    reader: new SecretReader({ connection, ...secret }),
    target: source,
    intervalSeconds: config.signingSecret.pollSeconds,
    logger,
    metrics: deps.metrics,
    readinessMetric: false,
    retiredKeysOnly: 'kmsref' in rule.key,
    ...(publisher ? { afterPoll: () => publisher.sync() } : {}),
  });
}
