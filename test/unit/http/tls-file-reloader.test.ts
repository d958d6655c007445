import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SecureContextTarget, TlsFileReloader } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/observability/index.ts';
import { type TestCert, writeTestCert } from '../../helpers/tls-cert.ts';

let dir: string;
let served: TestCert;
let lines: string[];
let installed: SecureContextOptions[];
const target: SecureContextTarget = { setSecureContext: (o) => void installed.push(o) };

function reloader() {
  const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
  return new TlsFileReloader({ certFile: served.certFile, keyFile: served.keyFile, logger });
}

/** Moves `cert`'s files over the served paths, as a Secret volume update does. */
function replaceWith(cert: TestCert, parts: ('cert' | 'key')[] = ['key', 'cert']) {
  for (const part of parts)
    renameSync(
      part === 'cert' ? cert.certFile : cert.keyFile,
      part === 'cert' ? served.certFile : served.keyFile,
    );
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tls-reload-'));
  served = writeTestCert(dir, 'first');
  lines = [];
  installed = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('TlsFileReloader', () => {
  it('loads the pair, and changes nothing while the files stay the same', () => {
    const r = reloader();
    expect(r.load().cert.toString()).toBe(served.certPem);
    expect(r.reload(target)).toBe(false);
    expect(installed).toEqual([]);
  });

  it('installs a replaced pair once, on the next check', () => {
    const r = reloader();
    r.load();
    const next = writeTestCert(dir, 'second');
    replaceWith(next);
    expect(r.reload(target)).toBe(true);
    expect(installed.map((o) => o.cert?.toString())).toEqual([next.certPem]);
    expect(r.reload(target)).toBe(false);
    expect(lines.join('')).toContain('API certificate reloaded');
  });

  it('keeps the served pair while the new files do not match, and installs them once they do', () => {
    const r = reloader();
    r.load();
    const next = writeTestCert(dir, 'second');
    replaceWith(next, ['cert']); // certificate updated, key not yet
    expect(r.reload(target)).toBe(false);
    expect(r.reload(target)).toBe(false);
    expect(installed).toEqual([]);
    expect(lines.join('').split('do not load')).toHaveLength(2); // warned once per change
    replaceWith(next, ['key']);
    expect(r.reload(target)).toBe(true);
    expect(installed.map((o) => o.cert?.toString())).toEqual([next.certPem]);
  });

  it('keeps the served pair when the files disappear', () => {
    const r = reloader();
    r.load();
    rmSync(served.certFile);
    expect(r.reload(target)).toBe(false);
    expect(lines.join('')).toContain('unreadable');
  });

  it('fails the first load naming both files', () => {
    rmSync(served.keyFile);
    expect(() => reloader().load()).toThrow(
      expect.objectContaining({ code: 'config_invalid', message: expect.stringContaining(served.keyFile) }),
    );
  });
});
