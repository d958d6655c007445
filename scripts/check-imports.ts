/**
 * The import rules of src/ (run by `npm run lint`):
 *   - a file imports another folder only through that folder's index.ts (no deep imports);
 *   - the folders under src/ import each other one way: no cycle between folders;
 *   - every folder sits in one layer of LAYERS and imports only folders of lower layers.
 * Files directly in src/ (errors.ts) are leaves every folder may import.
 * Exits 1 listing every violation; `node scripts/check-imports.ts` prints the folder graph too
 * with `--graph`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** file (relative to src/, posix) → the relative specifiers it imports or re-exports */
export type ImportMap = ReadonlyMap<string, readonly string[]>;

export interface ImportProblems {
  deep: string[];
  cycles: string[];
  /** imports of a folder in the same or a higher layer, and folders no layer declares */
  layering: string[];
  graph: Map<string, Set<string>>;
}

/**
 * The layer order of src/, lowest first: shared domain types and leaves, then the views of runs,
 * the pure core (policy, extractors, formats), the transports and stores, the attest pipeline, the
 * reconciler and the queue, the wiring (controller, http), and the composition roots (cli).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['tekton', 'intoto', 'cache', 'retry'],
  ['model'],
  ['queue', 'observability', 'policy', 'artifacts'],
  ['oci'],
  ['formats', 'signing'],
  ['log'],
  ['config', 'verify'],
  ['kube'],
  ['storage'],
  ['index'],
  ['attest'],
  ['reconcile'],
  ['controller', 'http'],
  ['cli'],
];

const folderOf = (file: string): string => (file.includes('/') ? file.split('/')[0] : file);

export function checkImports(
  files: ImportMap,
  layers: readonly (readonly string[])[] = LAYERS,
): ImportProblems {
  const deep: string[] = [];
  const graph = new Map<string, Set<string>>();
  const example = new Map<string, string>();
  for (const [file, specifiers] of files) {
    const from = folderOf(file);
    for (const spec of specifiers) {
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      const to = folderOf(target);
      if (to === from || !target.includes('/')) continue;
      if (target !== `${to}/index.ts`) deep.push(`${file} imports ${spec}: import ${to}/index.ts instead`);
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)?.add(to);
      if (!example.has(`${from}>${to}`)) example.set(`${from}>${to}`, file);
    }
  }
  const cycles = findCycles(graph).map(({ members, cycle }) => {
    const path = cycle.map((f, i) => `${f} (${example.get(`${f}>${cycle[(i + 1) % cycle.length]}`)})`);
    return `${members.join(', ')} import each other, e.g. ${path.join(' → ')} → ${cycle[0]}`;
  });
  return { deep, cycles, layering: layeringProblems(graph, files, layers), graph };
}

/** Imports that go sideways or up the declared layers, and folders with no layer. */
function layeringProblems(
  graph: Map<string, Set<string>>,
  files: ImportMap,
  layers: readonly (readonly string[])[],
): string[] {
  const layerOf = new Map<string, number>();
  layers.forEach((folders, i) => {
    for (const f of folders) layerOf.set(f, i);
  });
  const problems: string[] = [];
  const folders = new Set([...files.keys()].filter((f) => f.includes('/')).map(folderOf));
  for (const f of [...folders].sort())
    if (!layerOf.has(f))
      problems.push(`folder ${f} is in no layer: add it to LAYERS in scripts/check-imports.ts`);
  for (const [from, targets] of [...graph].sort())
    for (const to of [...targets].sort()) {
      const a = layerOf.get(from);
      const b = layerOf.get(to);
      if (a !== undefined && b !== undefined && b >= a)
        problems.push(`${from} (layer ${a}) imports ${to} (layer ${b}): only lower layers may be imported`);
    }
  return problems;
}

/** Each strongly connected component of more than one folder (Tarjan), with one cycle in it. */
function findCycles(graph: Map<string, Set<string>>): { members: string[]; cycle: string[] }[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: { members: string[]; cycle: string[] }[] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      component.push(w);
    } while (w !== v);
    if (component.length > 1)
      cycles.push({ members: component.sort(), cycle: cycleWithin(graph, new Set(component), v) });
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A path from `start` back to itself inside one component (breadth-first, so a shortest one). */
function cycleWithin(graph: Map<string, Set<string>>, component: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of graph.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]) as string);
        return path;
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

export function readImports(root: string): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const info = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
    const rel = relative(root, path).split(sep).join('/');
    files.set(
      rel,
      info.importedFiles.map((f) => f.fileName),
    );
  }
  return files;
}

if (import.meta.main) {
  const src = join(dirname(new URL(import.meta.url).pathname), '..', 'src');
  const { deep, cycles, layering, graph } = checkImports(readImports(src));
  if (process.argv.includes('--graph'))
    for (const [from, to] of [...graph].sort()) console.log(`${from} → ${[...to].sort().join(', ')}`);
  for (const d of deep) console.error(`deep import: ${d}`);
  for (const c of cycles) console.error(`import cycle between folders: ${c}`);
  for (const l of layering) console.error(`layering: ${l}`);
  if (deep.length + cycles.length + layering.length > 0) process.exit(1);
}
