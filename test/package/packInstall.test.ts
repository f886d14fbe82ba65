import { describe, expect, it } from 'vitest';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runProcess } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';

/** Runs a command (without blocking the test worker) and returns its exit code and both outputs together. */
async function sh(cmd: string, args: string[], cwd: string) {
  const r = await runProcess(cmd, args, { cwd, timeout: 300_000 });
  return { code: r.code, out: `${r.out}${r.err}`, stdout: r.out };
}

/** The README's first library example, verbatim. */
function readmeExample(): string {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const lib = readme.slice(readme.indexOf('## Library'));
  const m = /```js\n([\s\S]*?)```/.exec(lib);
  if (!m) throw new Error('README has no ```js block under ## Library');
  return m[1];
}

async function emptyProject(parent: string, name: string): Promise<string> {
  const dir = path.join(parent, name);
  await fs.mkdir(dir);
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  return dir;
}

const INSTALL = ['install', '--ignore-scripts', '--no-audit', '--no-fund'];

describe('the npm package, installed into a new project', () => {
  it('packs, installs offline from the npm cache with no warning and no download, and the README example and commands work there', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pv-pack-'));
    // dist/ is built by the test setup; packing without scripts leaves it untouched for the other tests.
    const pack = await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT);
    expect(pack.code, pack.out).toBe(0);
    const tarball = path.join(
      tmp,
      (await fs.readdir(tmp)).find((f) => f.endsWith('.tgz'))!,
    );

    let app = await emptyProject(tmp, 'app');
    let install = await sh('npm', [...INSTALL, '--offline', tarball], app);
    if (install.code !== 0 && /ENOTCACHED/.test(install.out)) {
      // `npm ci` caches tarballs but not registry metadata: fill the cache once (online), then install
      // again offline into a fresh project.
      const warm = await sh('npm', [...INSTALL, '--prefer-offline', tarball], await emptyProject(tmp, 'warm'));
      expect(warm.code, `filling the npm cache failed (is the registry reachable?):\n${warm.out}`).toBe(0);
      app = await emptyProject(tmp, 'app2');
      install = await sh('npm', [...INSTALL, '--offline', tarball], app);
    }
    expect(install.code, install.out).toBe(0);
    expect(install.out).not.toMatch(/npm warn/i);
    const ortBin = path.join(app, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
    if (existsSync(ortBin)) expect((await fs.readdir(ortBin)).filter((f) => /cuda|tensorrt/.test(f))).toEqual([]);

    await fs.writeFile(path.join(app, 'example.mjs'), readmeExample());
    const example = await sh(process.execPath, ['example.mjs'], app);
    expect(example.code, example.out).toBe(0);
    expect(example.stdout.trim().length).toBeGreaterThan(10);

    const run = await sh(
      'npx',
      ['--offline', 'persona-vectors', 'run', '--persona', 'formal', '--alpha', '2', '--prompt', 'Thank Sam for the gift.', '--max-new-tokens', '16'],
      app,
    );
    expect(run.code, run.out).toBe(0);
    expect(run.stdout.trim().length).toBeGreaterThan(5);
    expect(run.out).not.toMatch(/npm warn/i);

    const short = await sh('npx', ['--offline', 'persona', '--version'], app);
    expect(short.code, short.out).toBe(0);
    expect(short.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);

    const quick = await sh('npx', ['--offline', 'persona-vectors', 'quick-start'], app);
    expect(quick.code, quick.out).toBe(0);
    expect(quick.stdout).toMatch(/Next: npx persona-vectors run --persona formal/);
    await fs.rm(tmp, { recursive: true, force: true });
  });
});
