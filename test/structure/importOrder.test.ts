import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/paths.js';

/**
 * The layers of src/, lowest first: a module may import from its own folder and from folders to its
 * left, never to its right (DESIGN.md: util → model → engine → steering → persona → eval → the programs).
 * Folders on one rank may not import each other.
 */
const RANKS: string[][] = [
  ['errors.ts', 'version.ts'],
  // web/: the page's plain-JS modules (served unbundled); only their .d.ts files are seen here.
  ['util', 'web'],
  ['model', 'gguf'],
  ['engine'],
  ['steering'],
  ['persona'],
  ['eval'],
  ['bench', 'chat', 'server'],
  ['cli'],
  ['index.ts'],
];
const SRC = path.join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

/** The room of a file: its top folder under src/ (or the file itself at the top). */
const room = (file: string) => path.relative(SRC, file).split(path.sep)[0];
const rank = (r: string) => RANKS.findIndex((rs) => rs.includes(r));

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"`;]*?from\s+['"](\.[^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out.map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
}

describe('the import order of src/', () => {
  const all = files(SRC);
  const graph = new Map(all.map((f) => [f, imports(f).filter((t) => t.startsWith(SRC))]));

  it('puts every top-level file and folder in a layer', () => {
    expect([...new Set(all.map(room))].filter((r) => rank(r) < 0)).toEqual([]);
  });

  it('has no import that runs against the layer order', () => {
    const against: string[] = [];
    for (const [f, targets] of graph) {
      for (const t of targets) {
        const a = room(f);
        const b = room(t);
        if (a !== b && rank(b) >= rank(a)) against.push(`${path.relative(SRC, f)} → ${path.relative(SRC, t)}`);
      }
    }
    expect(against).toEqual([]);
  });

  it('has no import circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 1);
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 1)
          circles.push(
            stack
              .slice(stack.indexOf(t))
              .concat(t)
              .map((x) => path.relative(SRC, x))
              .join(' → '),
          );
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });
});
