import type { PublicKeySecretWriter } from '../kube/index.ts';
import type { Logger } from '../observability/index.ts';
import type { PublicKeyInfo } from '../signing/index.ts';

export interface PublicKeyPublisherOptions {
  writer: Pick<PublicKeySecretWriter, 'publish' | 'describe'>;
  /** what GET /api/v1/keys serves: active first, then retired */
  publicKeys: () => PublicKeyInfo[];
  logger: Logger;
}

/**
 * The `public-key` Secret verifiers read (`cosign verify --key k8s://<ns>/public-key`, Conforma's
 * policy `publicKey`): `cosign.pub` holds every published key as PEM, the active key first (tools
 * that read one PEM block get the key that signs now; retired keys follow so attestations made
 * before a rotation still verify with tools that read them all). Called after every poll of the
 * signing Secret, so a rotation, or an edit of the public Secret by someone else, is put right
 * within `signing.secret.poll-seconds`. Nothing is written while no key is loaded (keyless, or
 * the signing Secret missing): an empty `cosign.pub` would only make every verification fail.
 */
export class PublicKeyPublisher {
  readonly #o: PublicKeyPublisherOptions;
  #failing = false;

  constructor(options: PublicKeyPublisherOptions) {
    this.#o = options;
  }

  async sync(): Promise<void> {
    const { writer, publicKeys, logger } = this.#o;
    const keys = publicKeys();
    if (keys.length === 0) return;
    try {
      const wrote = await writer.publish(publicKeysPem(keys));
      if (wrote || this.#failing)
        logger.info(
          { secret: writer.describe(), keyIds: keys.map((k) => k.keyId) },
          `public keys published in Secret ${writer.describe()} (cosign.pub, ${keys.length} key(s))`,
        );
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) logger.warn({ secret: writer.describe() }, (err as Error).message);
      this.#failing = true;
    }
  }
}

/** The keys as one PEM text, in the order given, each block ending in a newline. */
export function publicKeysPem(keys: readonly Pick<PublicKeyInfo, 'publicKeyPem'>[]): string {
  return keys.map((k) => `${k.publicKeyPem.trim()}\n`).join('');
}
