import type { ObserverConfig } from '../../config/index.ts';
import { type KubeConnection, PublicKeySecretWriter } from '../../kube/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { PublicKeyInfo } from '../../signing/index.ts';
import { PublicKeyPublisher } from '../public-key-publisher.ts';

/** Keeps the `public-key` Secret in step with the keys (none when `signing.public-key-secret.name` is ""). */
export function publicKeyPublisher(
  config: ObserverConfig,
  connection: KubeConnection,
  publicKeys: () => PublicKeyInfo[],
  logger: Logger,
): (() => Promise<void>) | undefined {
  const { name, namespace } = config.publicKeySecret;
  if (!name) return undefined;
  const writer = new PublicKeySecretWriter({
    connection,
    name,
    namespace: namespace ?? config.signingSecret.namespace,
  });
  const publisher = new PublicKeyPublisher({ writer, publicKeys, logger });
  return () => publisher.sync();
}
