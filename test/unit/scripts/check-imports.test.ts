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

  it('passes on src/', () => {
    const { deep, cycles, graph } = checkImports(
      readImports(fileURLToPath(new URL('../../../src', import.meta.url))),
    );
    expect({ deep, cycles }).toEqual({ deep: [], cycles: [] });
    expect(graph.get('controller')?.has('tekton')).toBe(true);
  });
});
