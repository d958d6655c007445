import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_DIR } from '../env/index.ts';

/** Debian's SoftHSM2 module (package softhsm2, test/env/install-deps.sh). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export type TokenKeyType = 'EC:prime256v1' | 'EC:secp384r1' | 'rsa:2048' | 'EC:edwards25519';

export interface SoftHsmToken {
  /** the token's folder inside .local/env/softhsm/<name> (what "unplugging" moves away) */
  tokenDir: string;
  /** SOFTHSM2_CONF for this token (set it in the process that loads the module) */
  conf: string;
  pinFile: string;
  label: string;
  /** pkcs11-tool's listing of the token's objects (shows "never extractable") */
  listObjects(): string;
  /** pkcs11: URI of the private key labelled `object` */
  uri(object: string, query?: string): string;
  /** a key pair generated inside the token by pkcs11-tool (the private key non-extractable) */
  generate(type: TokenKeyType, object: string, id: string): void;
}

/**
 * A SoftHSM2 token of the local environment: its own token directory under .local/env/softhsm/
 * (never ~/.config or /var/lib/softhsm), initialised fresh with a user PIN kept in a file, as the
 * observer reads it (`pin-source=file:`). Keys are generated inside the token by pkcs11-tool
 * (opensc): they never exist outside it.
 */
export function createSoftHsmToken(name: string): SoftHsmToken {
  const dir = join(STATE_DIR, 'softhsm', name);
  rmSync(dir, { recursive: true, force: true });
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const pinFile = join(dir, 'pin');
  const pin = `pin-${process.pid}-${Date.now()}`;
  writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const label = `observer-${name}`.slice(0, 32);
  const run = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `so-${pin}`]);
  const tool = (...args: string[]) =>
    run('pkcs11-tool', [
      '--module',
      SOFTHSM_MODULE,
      '--token-label',
      label,
      '--login',
      '--pin',
      pin,
      ...args,
    ]);
  return {
    tokenDir,
    conf,
    pinFile,
    label,
    listObjects: () => tool('--list-objects'),
    uri: (object, query = '') =>
      `pkcs11:token=${label};object=${object};type=private?module-path=${SOFTHSM_MODULE}&pin-source=file:${pinFile}${query}`,
    generate: (type, object, id) => {
      tool('--keypairgen', '--key-type', type, '--label', object, '--id', id);
    },
  };
}

/** Whether the tools are installed (they are part of test/env/install-deps.sh: a test fails without them). */
export function softHsmInstalled(): boolean {
  return existsSync(SOFTHSM_MODULE);
}
