import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkImports, readImports } from '../../../scripts/check-imports.ts';

describe('check-imports', () => {
  it('finds a cycle between folders, naming a file of each edge', () => {
    const { cycles } = checkImports(
      new Map([
        ['a/x.ts', ['../b/index.ts', '../errors.ts']],
        ['b/y.ts', ['../c/index.ts']],
        ['c/z.ts', ['../a/index.ts']],
        ['d/w.ts', ['../a/index.ts']],
        ['errors.ts', []],
      ]),
    );
    expect(cycles).toEqual(['a, b, c import each other, e.g. a (a/x.ts) → b (b/y.ts) → c (c/z.ts) → a']);
  });

  it('finds deep imports across folders, not within one', () => {
    const { deep, cycles } = checkImports(
      new Map([
        ['a/x.ts', ['../b/y.ts', './sub/z.ts', 'node:fs']],
        ['a/sub/z.ts', ['../x.ts', '../../b/index.ts']],
      ]),
    );
    expect(deep).toEqual(['a/x.ts imports ../b/y.ts: import b/index.ts instead']);
    expect(cycles).toEqual([]);
  });

  it('finds imports sideways or up the layers, and folders in no layer', () => {
    const { layering, cycles } = checkImports(
      new Map([
        ['low/x.ts', ['../high/index.ts']],
        ['high/y.ts', []],
        ['peer/z.ts', ['../low/index.ts', '../other/index.ts']],
        ['other/w.ts', []],
        ['stray/v.ts', []],
      ]),
      [['low'], ['high'], ['peer', 'other']],
    );
    expect(cycles).toEqual([]);
    expect(layering).toEqual([
      'folder stray is in no layer: add it to LAYERS in scripts/check-imports.ts',
      'low (layer 0) imports high (layer 1): only lower layers may be imported',
      'peer (layer 2) imports other (layer 2): only lower layers may be imported',
    ]);
  });

  it('passes on src/', () => {
    const { deep, cycles, layering, graph } = checkImports(
      readImports(fileURLToPath(new URL('../../../src', import.meta.url))),
    );
    expect({ deep, cycles, layering }).toEqual({ deep: [], cycles: [], layering: [] });
    expect(graph.get('controller')?.has('tekton')).toBe(true);
  });
});
