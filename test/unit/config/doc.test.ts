import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  CONFIG_ROWS,
  configDoc,
  type ObserverConfig,
  parseConfig,
  withConfigDoc,
} from '../../../src/config/index.ts';
import type { FormatName } from '../../../src/formats/index.ts';

describe('the key table', () => {
  it('is what docs/configuration.md shows (run npm run docs:config after changing a row)', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(withConfigDoc(doc)).toBe(doc);
  });

  it('documents every key, its default and what is allowed', () => {
    const doc = configDoc();
    for (const row of CONFIG_ROWS) {
      expect(doc).toContain(`| \`${row.key}\` |`);
      expect(row.doc).not.toBe('');
      expect(row.doc).not.toContain('|');
      expect(row.parse.allowed).not.toContain('|');
    }
    expect(doc).toContain('`signers.kms.kmsref`');
    expect(doc).toContain('`storage.pubsub.topic`');
  });

  it('has unique keys and places, and every default parses', () => {
    expect(new Set(CONFIG_ROWS.map((r) => r.key)).size).toBe(CONFIG_ROWS.length);
    expect(new Set(CONFIG_ROWS.map((r) => r.at)).size).toBe(CONFIG_ROWS.length);
    for (const row of CONFIG_ROWS) expect(() => row.parse.parse(row.default, row.key)).not.toThrow();
  });

  it('yields the typed config', () => {
    expectTypeOf<ObserverConfig['taskrun']['format']>().toEqualTypeOf<FormatName>();
    expectTypeOf<ObserverConfig['pipelinerun']['childWaitSeconds']>().toEqualTypeOf<number>();
    expectTypeOf<ObserverConfig['storageOci']['repository']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ObserverConfig['transparency']['mode']>().toEqualTypeOf<'off' | 'on' | 'manual'>();
    expectTypeOf<ObserverConfig['signingSecret']['namespace']>().toEqualTypeOf<string>();
    const c = parseConfig({ 'storage.oci.repository': 'r.example/x' });
    expect(c.storageOci.repository).toBe('r.example/x');
    expect('repository' in parseConfig({}).storageOci).toBe(false);
  });
});
