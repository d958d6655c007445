/**
 * The size rules of src/ (run by `npm run lint`): no function over MAX_FUNCTION_LINES lines (data
 * tables aside: an object or array literal is not a function), no folder with over MAX_FOLDER_FILES
 * files. Exits 1 listing every violation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export const MAX_FUNCTION_LINES = 80;
export const MAX_FOLDER_FILES = 15;

/** Functions (declarations, methods, arrows, expressions) of one file longer than the limit. */
export function longFunctions(file: string, text: string, max = MAX_FUNCTION_LINES): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) found.push(`${file}:${start + 1} ${nameOf(node)} is ${lines} lines (max ${max})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function nameOf(node: ts.SignatureDeclaration): string {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name && ts.isPrivateIdentifier(node.name)) return node.name.text;
  if (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name))
    return node.parent.name.text;
  return '(anonymous function)';
}

/** Folders holding more files than the limit (files directly in them; subfolders count apart). */
export function crowdedFolders(counts: ReadonlyMap<string, number>, max = MAX_FOLDER_FILES): string[] {
  return [...counts]
    .filter(([, n]) => n > max)
    .map(([folder, n]) => `${folder} holds ${n} files (max ${max}): split it into subfolders`);
}

export function checkSize(root: string): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const folder = relative(dirname(root), entry.parentPath);
    counts.set(folder, (counts.get(folder) ?? 0) + 1);
    problems.push(...longFunctions(relative(dirname(root), path), readFileSync(path, 'utf8')));
  }
  return [...problems, ...crowdedFolders(counts)];
}

if (import.meta.main) {
  const problems = checkSize(join(dirname(new URL(import.meta.url).pathname), '..', 'src'));
  for (const p of problems) console.error(`size: ${p}`);
  if (problems.length > 0) process.exit(1);
}
