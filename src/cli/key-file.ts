import { readFileSync } from 'node:fs';
import { ObserverError } from '../errors.ts';
import { loadCosignKey, loadX509Pem, type Signer } from '../signing/index.ts';

/**
 * Loads a signing key for offline use: a cosign key (`ENCRYPTED … PRIVATE KEY`, with the password
 * file used verbatim, as cosign does) or an unencrypted PKCS#8 PEM (optionally with certificates).
 */
export async function loadSignerFromFiles(options: {
  keyFile: string;
  passwordFile?: string;
}): Promise<Signer> {
  const key = readBytes(options.keyFile);
  const ref = { namespace: 'file', name: options.keyFile, entry: options.keyFile };
  if (Buffer.from(key).toString('utf8').includes('ENCRYPTED')) {
    if (!options.passwordFile)
      throw new ObserverError(`${options.keyFile} is encrypted: give --password-file`, {
        code: 'config_invalid',
        retryable: false,
      });
    return loadCosignKey(key, readBytes(options.passwordFile), ref);
  }
  return loadX509Pem(key, ref);
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new ObserverError(
      `reading ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        code: 'config_invalid',
        retryable: false,
      },
    );
  }
}
