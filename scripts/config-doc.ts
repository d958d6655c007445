/**
 * Rewrites the generated part of docs/configuration.md from the key table (src/config/keys.ts).
 * test/unit/config/doc.test.ts fails when the committed doc differs from what this writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigDoc } from '../src/config/doc.ts';

const path = new URL('../docs/configuration.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withConfigDoc(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'docs/configuration.md is current' : 'docs/configuration.md updated');
