import { readFileSync } from 'node:fs';
import type { ChainsTrust } from '../../attest/index.ts';
import type { ObserverConfig } from '../../config/index.ts';
import { ObserverError } from '../../errors.ts';
import { type KubeConnection, SecretReader } from '../../kube/index.ts';
import type { Logger } from '../../observability/index.ts';

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/**
 * Tekton Chains' public keys for adoption (`adoption.chains-public-key-files`, read once at start:
 * a missing or keyless file fails the start naming it; and `adoption.chains-public-key-secret`,
 * every `*.pub` entry, re-read at most every `signing.secret.poll-seconds`, the last keys read
 * kept while the Secret cannot be read). Undefined when neither is configured: adoption is off.
 */
export function chainsTrustSource(
  config: ObserverConfig,
  connection: KubeConnection,
  logger: Logger,
): (() => Promise<ChainsTrust | undefined>) | undefined {
  const { publicKeyFiles, publicKeySecret, cutOver } = config.chainsAdoption ?? {};
  const files = (publicKeyFiles ?? []).flatMap(readKeyFile);
  if (files.length === 0 && !publicKeySecret) return undefined;
  const trust = (fromSecret: string[]): ChainsTrust => ({
    publicKeysPem: [...files, ...fromSecret],
    ...(cutOver ? { cutOver } : {}),
  });
  if (!publicKeySecret) return async () => trust([]);
  const reader = new SecretReader({
    connection,
    namespace: config.signingSecret.namespace,
    name: publicKeySecret,
  });
  const everyMs = config.signingSecret.pollSeconds * 1000;
  let last: { at: number; keys: string[] } | undefined;
  return async () => {
    if (!last || Date.now() - last.at >= everyMs) {
      try {
        const secret = await reader.read();
        const keys = Object.entries(secret?.data ?? {})
          .filter(([name]) => name.endsWith('.pub'))
          .flatMap(([, bytes]) => pemBlocks(Buffer.from(bytes).toString('utf8')));
        if (keys.length === 0)
          logger.warn({ secret: reader.describe() }, 'no Chains public key (*.pub) in the Secret');
        last = { at: Date.now(), keys };
      } catch (err) {
        logger.warn(
          { err: (err as Error).message },
          "reading Chains' public keys failed; keeping the last ones read",
        );
        last = { at: Date.now(), keys: last?.keys ?? [] };
      }
    }
    return trust(last.keys);
  };
}

function readKeyFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw keyFileError(file, (err as NodeJS.ErrnoException).code ?? 'unreadable');
  }
  const keys = pemBlocks(text);
  if (keys.length === 0) throw keyFileError(file, 'no PEM PUBLIC KEY block');
  return keys;
}

function pemBlocks(text: string): string[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => `${m[0]}\n`);
}

const keyFileError = (file: string, why: string) =>
  new ObserverError(`adoption.chains-public-key-files ${file}: ${why}`, {
    code: 'config_invalid',
    retryable: false,
  });
