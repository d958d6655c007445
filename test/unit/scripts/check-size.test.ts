import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkSize, crowdedFolders, longFunctions } from '../../../scripts/check-size.ts';

describe('check-size', () => {
  it('finds functions over the limit, by name, and leaves data tables alone', () => {
    const body = Array.from({ length: 5 }, (_, i) => `  const a${i} = ${i};`).join('\n');
    const text = `function long() {\n${body}\n}\nconst table = [\n${'  1,\n'.repeat(20)}];\nconst short = () => 1;\n`;
    expect(longFunctions('x.ts', text, 5)).toEqual(['x.ts:1 long is 7 lines (max 5)']);
  });

  it('finds folders holding more files than the limit', () => {
    expect(
      crowdedFolders(
        new Map([
          ['src/a', 16],
          ['src/b', 15],
        ]),
      ),
    ).toEqual(['src/a holds 16 files (max 15): split it into subfolders']);
  });

  it('passes on src/', () => {
    expect(checkSize(fileURLToPath(new URL('../../../src', import.meta.url)))).toEqual([]);
  });
});
