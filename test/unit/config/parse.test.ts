import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { artifactEnabled, parseConfig } from '../../../src/config/index.ts';
import { CONFIG_ROWS } from '../../../src/config/keys.ts';

const DEPLOY = join(import.meta.dirname, '../../../deploy');

describe('parseConfig', () => {
  it('applies documented defaults', () => {
    const c = parseConfig({});
    expect(c.taskrun).toEqual({ format: 'slsa/v0.2', storage: ['tekton'], signer: 'x509' });
    expect(c.pipelinerun).toMatchObject({ format: 'slsa/v0.2', storage: ['tekton'], signer: 'x509' });
    expect(c.pipelinerun.deepInspection).toBe(false);
    expect(c.builderId).toBe('https://tekton.dev/chains/v2');
    expect(c.buildType).toBe('https://tekton.dev/chains/v2/slsa');
    expect(c.signingSecret).toEqual({
      namespace: 'provenance-observer',
      name: 'signing-secrets',
      pollSeconds: 30,
    });
    expect(c.transparency.mode).toBe('off');
    expect(Object.isFrozen(c.taskrun)).toBe(true);
  });

  it("accepts Chains' format names with Chains' meaning", () => {
    expect(parseConfig({ 'artifacts.taskrun.format': 'in-toto' }).taskrun.format).toBe('slsa/v0.2');
    expect(parseConfig({ 'artifacts.taskrun.format': 'slsa/v1' }).taskrun.format).toBe('slsa/v0.2');
    expect(parseConfig({ 'artifacts.pipelinerun.format': 'slsa/v2alpha4' }).pipelinerun.format).toBe(
      'slsa/v1.0',
    );
    expect(parseConfig({ 'artifacts.pipelinerun.format': 'slsa/v2alpha3' }).pipelinerun.format).toBe(
      'slsa/v1.0',
    );
  });

  it('parses storage sets (sorted, deduplicated) and "" as disabled', () => {
    const c = parseConfig({
      'artifacts.taskrun.storage': ' oci , tekton,oci',
      'artifacts.pipelinerun.storage': '',
    });
    expect(c.taskrun.storage).toEqual(['oci', 'tekton']);
    expect(c.pipelinerun.storage).toEqual([]);
    expect(artifactEnabled(c.pipelinerun)).toBe(false);
    expect(artifactEnabled({ storage: ['oci'], signer: 'none' })).toBe(false);
  });

  it('rejects what Chains silently ignores, naming the key and the allowed values', () => {
    expect(() => parseConfig({ 'transparency.enabled': 'yes' })).toThrow(
      /"transparency.enabled".*"yes".*"true", "false", "manual"/,
    );
    expect(() => parseConfig({ 'artifacts.pipelinerun.enable-deep-inspection': 'maybe' })).toThrow(
      /enable-deep-inspection/,
    );
    expect(() => parseConfig({ 'artifacts.taskrun.storage': 'kafka' })).toThrow(
      /"artifacts.taskrun.storage".*"kafka"/,
    );
    expect(() => parseConfig({ 'artifacts.taskrun.format': 'slsa/v9' })).toThrow(
      /"artifacts.taskrun.format"/,
    );
    expect(() => parseConfig({ 'builder.id': 'not a uri' })).toThrow(/builder.id/);
    expect(() => parseConfig({ 'no.such.key': 'x' })).toThrow(/unknown config key "no.such.key"/);
    expect(() => parseConfig({ 'signers.kms.kmsref': 'gcpkms://x' })).toThrow(/not supported/);
    expect(() => parseConfig({ 'artifacts.taskrun.signer': 'kms' })).toThrow(/kms/);
  });

  it('accepts Go ParseBool spellings and transparency modes', () => {
    expect(
      parseConfig({ 'artifacts.pipelinerun.enable-deep-inspection': 'T' }).pipelinerun.deepInspection,
    ).toBe(true);
    expect(parseConfig({ 'transparency.enabled': 'manual' }).transparency.mode).toBe('manual');
    expect(parseConfig({ 'transparency.enabled': 'true' }).transparency.mode).toBe('on');
  });

  it('serves the API on its own port with our audience by default, and not without a certificate', () => {
    const c = parseConfig({});
    expect(c.api).toEqual({
      host: '0.0.0.0',
      port: 8443,
      tlsReloadSeconds: 10,
      audiences: ['provenance-observer'],
    });
    expect(c.http.port).toBe(8080);
    const set = parseConfig({
      'api.tls-cert-file': '/tls/tls.crt',
      'api.tls-key-file': '/tls/tls.key',
      'api.audiences': 'a, b',
      'api.cursor-key-file': '/keys/cursor',
    });
    expect(set.api).toMatchObject({
      tlsCertFile: '/tls/tls.crt',
      tlsKeyFile: '/tls/tls.key',
      audiences: ['a', 'b'],
      cursorKeyFile: '/keys/cursor',
    });
    expect(() => parseConfig({ 'api.audiences': ' , ' })).toThrow(/api\.audiences.*at least one/);
    expect(() => parseConfig({ 'api.port': '70000' })).toThrow(/api\.port/);
  });

  it('takes the observer namespace from the environment', () => {
    expect(parseConfig({}, { namespace: 'ops' }).signingSecret.namespace).toBe('ops');
  });

  it('selects the index: SQLite by default, PostgreSQL by index.url, with TLS, retention and a cap', () => {
    const d = parseConfig({});
    expect(d.indexUrl).toBeUndefined();
    expect(d.indexTls).toEqual({ mode: 'require' });
    expect(d.indexRetentionDays).toBe(90);
    expect(d.indexNamespacePayloadCapBytes).toBe('auto'); // the share of the volume, under its floor
    expect(d.indexNamespaceShareBytes).toBe('auto');
    expect(d.indexFreeSpaceFloorPercent).toBe(10);
    expect(d.indexVolumeBytes).toBe(0);
    expect(() => parseConfig({ 'index.namespace-payload-cap-bytes': 'lots' })).toThrow(
      /index\.namespace-payload-cap-bytes.*`auto` or an integer/,
    );
    const c = parseConfig({
      'index.url': 'postgres://observer@db.example:5432/provenance',
      'index.tls-mode': 'verify-full',
      'index.tls-ca-file': '/etc/db-ca/ca.crt',
      'index.retention-days': '30',
      'index.namespace-payload-cap-bytes': '2048',
    });
    expect(c.indexUrl).toBe('postgres://observer@db.example:5432/provenance');
    expect(c.indexTls).toEqual({ mode: 'verify-full', caFile: '/etc/db-ca/ca.crt' });
    expect(c.indexRetentionDays).toBe(30);
    expect(c.indexNamespacePayloadCapBytes).toBe(2048);
    expect(() => parseConfig({ 'index.tls-mode': 'prefer' })).toThrow(/index.tls-mode.*"verify-full"/);
  });

  it('rejects an index.url that is not a postgres URL without repeating it (it may hold a password)', () => {
    for (const [url, why] of [
      ['mysql://u:hunter2@db/x', 'is not a postgres:// URL'],
      ['postgres://u:hunter2@db/x?sslmode=disable', 'index.tls-mode'],
      ['u:hunter2@db', 'is not a'],
    ]) {
      const err = (() => {
        try {
          parseConfig({ 'index.url': url });
        } catch (e) {
          return e as Error & { code?: string };
        }
        throw new Error(`accepted ${url}`);
      })();
      expect(err.code).toBe('config_invalid');
      expect(err.message).toContain('"index.url"');
      expect(err.message).toContain(why);
      expect(err.message).not.toContain('hunter2');
    }
  });
});

/**
 * Tekton Chains' default of every `chains-config` key we support (tektoncd/chains pkg/config/config.go,
 * ../shared/reference/tekton-chains-behaviour.md §1.1): a key left unset means what it meant under Chains.
 */
const CHAINS_DEFAULTS: Record<string, string> = {
  'artifacts.taskrun.format': 'in-toto',
  'artifacts.taskrun.storage': 'tekton',
  'artifacts.taskrun.signer': 'x509',
  'artifacts.pipelinerun.format': 'in-toto',
  'artifacts.pipelinerun.storage': 'tekton',
  'artifacts.pipelinerun.signer': 'x509',
  'artifacts.pipelinerun.enable-deep-inspection': 'false',
  'artifacts.oci.format': 'simplesigning',
  'artifacts.oci.storage': 'oci',
  'artifacts.oci.signer': 'x509',
  'storage.oci.repository': '',
  'storage.oci.repository.insecure': 'false',
  'storage.oci.encoding-format': 'dsse',
  'transparency.enabled': 'false',
  'transparency.url': 'https://rekor.sigstore.dev',
  'signers.x509.fulcio.enabled': 'false',
  'signers.x509.fulcio.address': 'https://fulcio.sigstore.dev',
  'signers.x509.fulcio.issuer': 'https://oauth2.sigstore.dev/auth',
  'signers.x509.fulcio.provider': '',
  'signers.x509.identity.token.file': '',
  'builder.id': 'https://tekton.dev/chains/v2',
  'builddefinition.buildtype': 'https://tekton.dev/chains/v2/slsa',
  'filter.managed-by': '',
  'signers.kms.kmsref': '',
};

describe("Chains' defaults for Chains' keys", () => {
  it("every Chains key we support defaults to Chains' default; every other key is marked ours", () => {
    const chainsKeys = CONFIG_ROWS.filter((r) => !r.doc.startsWith('ours:'));
    expect(Object.fromEntries(chainsKeys.map((r) => [r.key, r.default]))).toEqual(CHAINS_DEFAULTS);
  });

  it("an unset key parses as the same key set to Chains' default", () => {
    expect(parseConfig({})).toEqual(parseConfig(CHAINS_DEFAULTS));
  });

  it("deploy/'s ConfigMap carries our recommendation explicitly (SLSA v1.0 to tekton and oci)", () => {
    const data = parseAllDocuments(readFileSync(join(DEPLOY, 'base/30-config.yaml'), 'utf8'))
      .map((d) => d.toJS())
      .find((d) => d?.kind === 'ConfigMap').data;
    const config = parseConfig(data);
    for (const artifact of [config.taskrun, config.pipelinerun])
      expect(artifact).toMatchObject({ format: 'slsa/v1.0', storage: ['oci', 'tekton'] });
  });
});

describe('an existing Tekton Chains chains-config ConfigMap', () => {
  it('parses unchanged as our config (its keys are ours)', () => {
    const config = parseConfig({
      'artifacts.taskrun.format': 'in-toto',
      'artifacts.taskrun.storage': 'oci',
      'artifacts.oci.storage': 'oci',
      'artifacts.pipelinerun.format': 'in-toto',
      'artifacts.pipelinerun.storage': 'tekton',
      'transparency.enabled': 'false',
      'builder.id': 'https://tekton.dev/chains/v2',
    });
    expect(config.taskrun.format).toBe('slsa/v0.2');
    expect(config.taskrun.storage).toEqual(['oci']);
    expect(config.oci.storage).toEqual(['oci']);
    expect(config.pipelinerun.storage).toEqual(['tekton']);
    expect(config.transparency.mode).toBe('off');
    expect(config.builderId).toBe('https://tekton.dev/chains/v2');
  });
});
