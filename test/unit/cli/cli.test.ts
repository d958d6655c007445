import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The command line as users run it: a child process of bin/provenance-observer.js, no cluster.
const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/provenance-observer.js');
const fixture = (name: string) => join(root, 'test/fixtures/runs', name);
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

// each test starts Node a few times: slow on a busy 2-core machine
describe('provenance-observer generate and verify', { timeout: 120_000 }, () => {
  it('prints the same statement the service builds (the golden file), offline', () => {
    const out = cli('generate', '--run', fixture('taskrun-multi-arch.json'), '--format', 'slsa/v1.0');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(
      JSON.parse(readFileSync(fixture('taskrun-multi-arch.slsa-v1.0.json'), 'utf8')),
    );
    expect(out.stdout.trim()).not.toContain('\n');
  });

  it("accepts Chains' format names and YAML PipelineRuns with their children", () => {
    const children = [
      'clone-repository',
      'build-container-amd64',
      'build-container-arm64',
      'build-image-index',
    ].flatMap((c) => ['--child', fixture(`app-on-push-x7k2p-${c}.json`)]);
    const out = cli(
      'generate',
      '--run',
      fixture('konflux-docker-build.yaml'),
      ...children,
      '--format',
      'in-toto',
      '--deep-inspection',
    );
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(
      JSON.parse(readFileSync(fixture('konflux-docker-build.slsa-v0.2.json'), 'utf8')),
    );
  });

  it('signs with --key; verify --envelope accepts it and rejects a tampered copy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const signed = cli(
      'generate',
      '--run',
      fixture('taskrun-failed.json'),
      '--key',
      join(root, 'keys-example/cosign.key'),
      '--password-file',
      join(root, 'keys-example/cosign.password'),
    );
    expect(signed.status).toBe(0);
    const envelope = JSON.parse(signed.stdout);
    expect(envelope.payloadType).toBe('application/vnd.in-toto+json');
    writeFileSync(join(dir, 'good.json'), signed.stdout);
    const ok = cli(
      'verify',
      '--envelope',
      join(dir, 'good.json'),
      '--key',
      join(root, 'keys-example/cosign.pub'),
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^ok {3}dsse signature \(key SHA256:/);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
    statement.subject = [{ name: 'evil.example/app', digest: { sha256: 'f'.repeat(64) } }];
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }),
    );
    const bad = cli(
      'verify',
      '--envelope',
      join(dir, 'bad.json'),
      '--key',
      join(root, 'keys-example/cosign.pub'),
    );
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL dsse signature/);
  });

  it('names the problem on bad usage, with exit code 2', () => {
    const missing = cli('generate');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('missing --run');
    const encrypted = cli(
      'generate',
      '--run',
      fixture('taskrun-failed.json'),
      '--key',
      join(root, 'keys-example/cosign.key'),
    );
    expect(encrypted.status).toBe(2);
    expect(encrypted.stderr).toContain('--password-file');
    const unknown = cli('nope');
    expect(unknown.status).toBe(2);
    expect(cli('generate', '--run', fixture('taskrun-failed.json'), '--format', 'slsa/v9').stderr).toMatch(
      /slsa\/v9/,
    );
  });

  it('a wrong password is reported without key material', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    writeFileSync(join(dir, 'pw'), 'wrong');
    const out = cli(
      'generate',
      '--run',
      fixture('taskrun-failed.json'),
      '--key',
      join(root, 'keys-example/cosign.key'),
      '--password-file',
      join(dir, 'pw'),
    );
    expect(out.status).not.toBe(0);
    expect(out.stderr).toMatch(/wrong password/);
    const keyBody = readFileSync(join(root, 'keys-example/cosign.key'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
    for (const line of keyBody) expect(out.stderr).not.toContain(line);
  });

  it('--help works for each command', () => {
    for (const c of ['run', 'generate', 'verify', 'audit'])
      expect(execFileSync(process.execPath, [bin, c, '--help'], { encoding: 'utf8' })).toContain(
        `provenance-observer ${c}`,
      );
  });
});
