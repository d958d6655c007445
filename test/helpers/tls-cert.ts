import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCert {
  certFile: string;
  keyFile: string;
  /** the certificate, also the CA a client must trust (it is self-signed) */
  certPem: string;
}

/**
 * A throwaway self-signed ECDSA P-256 serving certificate for 127.0.0.1 and localhost, valid one
 * day, made with openssl (test/env/install-deps.sh installs it). `name` prefixes the file names and
 * is the subject CN, so two certificates in one directory differ.
 */
export function writeTestCert(dir: string, name = 'api'): TestCert {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile, certPem: readFileSync(certFile, 'utf8') };
}
