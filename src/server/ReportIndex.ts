import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * One report file the server can show.
 *
 * @example const [first]: ReportEntry[] = await new ReportIndex('results').list();
 */
export interface ReportEntry {
  /** Path inside the reports folder, with `/` separators (the URL is `/reports/<name>`). */
  name: string;
  url: string;
  size: number;
  modified: string;
}

const MAX_DEPTH = 4;
const MAX_FILES = 1000;

/**
 * The HTML reports under a folder (layer analyses, evaluations), found by walking it (a few levels,
 * no symlinks followed). A report is served only when its name is in a fresh listing, so a URL can
 * never reach a file outside the folder.
 *
 * @example
 * const reports = new ReportIndex('results');
 * const list = await reports.list();        // [{ name: 'formal/layers.html', url: '/reports/formal/layers.html', … }]
 * const file = await reports.resolve('formal/layers.html');
 */
export class ReportIndex {
  constructor(readonly dir: string) {}

  async list(): Promise<ReportEntry[]> {
    const out: ReportEntry[] = [];
    const walk = async (rel: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(path.join(this.dir, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (out.length >= MAX_FILES || e.name.startsWith('.')) continue;
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory() && depth < MAX_DEPTH) await walk(child, depth + 1);
        else if (e.isFile() && /\.html?$/i.test(e.name)) {
          const st = await fs.stat(path.join(this.dir, child));
          out.push({ name: child, url: `/reports/${child.split('/').map(encodeURIComponent).join('/')}`, size: st.size, modified: st.mtime.toISOString() });
        }
      }
    };
    await walk('', 0);
    return out;
  }

  /** The file of a listed report, or null when the name is not in the listing. */
  async resolve(name: string): Promise<string | null> {
    const hit = (await this.list()).find((r) => r.name === name);
    return hit ? path.join(this.dir, ...hit.name.split('/')) : null;
  }
}
