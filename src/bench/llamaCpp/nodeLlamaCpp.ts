import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PersonaError } from '../../errors.js';
import { personaCacheDir } from '../../util/personaCacheDir.js';

/**
 * The node-llama-cpp version the llama.cpp comparison is pinned to (its prebuilt CPU binaries
 * bundle one llama.cpp release, so the version fixes what is measured).
 *
 * @example `npm install node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`
 */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';

/** The parts of node-llama-cpp 3.21.1's API this toolkit uses (from its `dist/*.d.ts`). */
export interface LlamaSequenceLike {
  clearHistory(): Promise<void>;
  evaluate(tokens: number[], options?: { temperature?: number; yieldEogToken?: boolean }): AsyncGenerator<number, void, void | number | number[]>;
  readonly nextTokenIndex: number;
}
/** A node-llama-cpp `LlamaContext`, as far as it is used here. */
export interface LlamaContextLike {
  getSequence(): LlamaSequenceLike;
  dispose(): Promise<void>;
  readonly contextSize: number;
  readonly batchSize: number;
  readonly flashAttention: 'auto' | boolean;
  readonly currentThreads: number;
}
/** A node-llama-cpp `LlamaModel`, as far as it is used here. */
export interface LlamaModelLike {
  createContext(options: {
    contextSize?: number;
    batchSize?: number;
    sequences?: number;
    threads?: number | { ideal?: number; min?: number };
    flashAttention?: 'auto' | boolean;
    ignoreMemorySafetyChecks?: boolean;
  }): Promise<LlamaContextLike>;
  dispose(): Promise<void>;
  readonly trainContextSize: number;
  readonly fileInfo: { architectureMetadata?: unknown; metadata?: unknown };
  readonly tokens: { bos: number | null; eos: number | null };
}
/** A node-llama-cpp `Llama`, as far as it is used here. */
export interface LlamaLike {
  loadModel(options: { modelPath: string; gpuLayers?: number; useMmap?: boolean | 'auto'; ignoreMemorySafetyChecks?: boolean }): Promise<LlamaModelLike>;
  dispose(): Promise<void>;
  readonly gpu: string | false;
  readonly buildType: string;
  readonly llamaCppRelease: { repo: string; release: string };
  readonly cpuMathCores: number;
  readonly maxThreads: number;
  readonly systemInfo: string;
}
/**
 * The node-llama-cpp module, typed by the few members used (it is an optional dependency, so
 * its own types are not available at build time).
 *
 * @example const { getLlama } = await ensureNodeLlamaCpp();
 */
export interface NodeLlamaCppModule {
  getLlama(options?: {
    gpu?: false | 'auto';
    build?: 'never' | 'auto';
    logLevel?: 'disabled' | 'fatal' | 'error' | 'warn' | 'info' | 'log' | 'debug';
    maxThreads?: number;
    progressLogs?: boolean;
    skipDownload?: boolean;
  }): Promise<LlamaLike>;
  getModuleVersion(): Promise<string>;
}

/** Options of `ensureNodeLlamaCpp`. */
export interface EnsureNodeLlamaCppOptions {
  /** Where node-llama-cpp is installed on demand (default `<persona cache>/llama-cpp`). */
  cacheDir?: string;
  /** Install it when missing (default true); false only looks. */
  install?: boolean;
  /** Progress lines ("installing …", npm's output); default: written to stderr. */
  onLog?: (line: string) => void;
}

/**
 * Where node-llama-cpp is installed on demand: `llama-cpp/` in the project's cache folder
 * (`PERSONA_CACHE`, else the XDG cache).
 *
 * @example llamaCppCacheDir(); // ~/.cache/persona-vectors/llama-cpp
 */
export function llamaCppCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(personaCacheDir(env), 'llama-cpp');
}

/** The npm package holding the prebuilt CPU binaries for this platform, where there is one. */
function prebuiltPackage(): string | undefined {
  const { platform, arch } = process;
  const name =
    platform === 'linux'
      ? { x64: 'linux-x64', arm64: 'linux-arm64', arm: 'linux-armv7l', riscv64: 'linux-riscv64' }[arch as string]
      : platform === 'darwin'
        ? { x64: 'mac-x64', arm64: 'mac-arm64-metal' }[arch as string]
        : platform === 'win32'
          ? { x64: 'win-x64', arm64: 'win-arm64' }[arch as string]
          : undefined;
  return name ? `@node-llama-cpp/${name}@${NODE_LLAMA_CPP_VERSION}` : undefined;
}

/** Dynamic import that TypeScript does not try to resolve at build time. */
const importModule = (specifier: string): Promise<unknown> => import(specifier);

async function importPinned(specifier: string): Promise<NodeLlamaCppModule | undefined> {
  try {
    const mod = (await importModule(specifier)) as NodeLlamaCppModule;
    if (typeof mod.getLlama !== 'function') return undefined;
    const version = typeof mod.getModuleVersion === 'function' ? await mod.getModuleVersion() : undefined;
    return version === NODE_LLAMA_CPP_VERSION ? mod : undefined;
  } catch {
    return undefined;
  }
}

async function importFromCache(dir: string): Promise<NodeLlamaCppModule | undefined> {
  let entry: string;
  try {
    entry = createRequire(path.join(dir, 'package.json')).resolve('node-llama-cpp');
  } catch {
    return undefined;
  }
  return importPinned(pathToFileURL(entry).href);
}

function runNpm(args: string[], cwd: string, onLog: (line: string) => void): Promise<{ code: number | null; tail: string[] }> {
  return new Promise((resolve, reject) => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const child = spawn(npm, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
    const tail: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLog(`  npm: ${line}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, tail }));
  });
}

let cached: Promise<NodeLlamaCppModule> | undefined;

/**
 * node-llama-cpp 3.21.1, imported from wherever it is installed: the project's own
 * `node_modules`, else the cache folder (`llamaCppCacheDir()`), else installed there now with
 * `npm install --no-save node-llama-cpp@3.21.1` plus this platform's prebuilt CPU binary package
 * (about 85 MB; no install scripts run, nothing is built) and imported from there. It is an
 * optional dependency: the project's package.json does not name it. Fails with a `PersonaError`
 * that says what to do when npm is missing or the install fails (offline, no registry).
 *
 * @example
 * const llamaCpp = await ensureNodeLlamaCpp();
 * const llama = await llamaCpp.getLlama({ gpu: false, build: 'never' });
 */
export function ensureNodeLlamaCpp(options: EnsureNodeLlamaCppOptions = {}): Promise<NodeLlamaCppModule> {
  if (options.cacheDir === undefined && options.install !== false && cached) return cached;
  const p = loadNodeLlamaCpp(options);
  if (options.cacheDir === undefined && options.install !== false) {
    cached = p;
    p.catch(() => {
      if (cached === p) cached = undefined;
    });
  }
  return p;
}

async function loadNodeLlamaCpp(options: EnsureNodeLlamaCppOptions): Promise<NodeLlamaCppModule> {
  const onLog = options.onLog ?? ((line: string) => process.stderr.write(`${line}\n`));
  const fromProject = await importPinned('node-llama-cpp');
  if (fromProject) return fromProject;
  const dir = options.cacheDir ?? llamaCppCacheDir();
  const fromCache = await importFromCache(dir);
  if (fromCache) return fromCache;
  const manual = `cd ${JSON.stringify(dir)} && npm install --no-save node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`;
  if (options.install === false) {
    throw new PersonaError(`node-llama-cpp ${NODE_LLAMA_CPP_VERSION} is not installed (looked in the project and in ${dir}). Install it with: ${manual}`);
  }

  const prebuilt = prebuiltPackage();
  onLog(
    `llama.cpp: installing node-llama-cpp@${NODE_LLAMA_CPP_VERSION}${prebuilt ? ` and ${prebuilt.replace(/@[^@]*$/, '')}` : ''} into ${dir} (one time, ~85 MB) ...`,
  );
  await fs.mkdir(dir, { recursive: true });
  const pkg = path.join(dir, 'package.json');
  await fs.writeFile(
    pkg,
    `${JSON.stringify({ name: 'persona-vectors-llama-cpp', private: true, description: 'node-llama-cpp installed on demand by persona bench --vs llama.cpp' }, null, 2)}\n`,
  );
  // Only this platform's CPU binaries: the optional GPU builds of node-llama-cpp are ~600 MB more.
  const args = ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--ignore-scripts', '--loglevel=error'];
  if (prebuilt) args.push('--omit=optional', `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, prebuilt);
  else args.push(`node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`);
  let result: { code: number | null; tail: string[] };
  try {
    result = await runNpm(args, dir, onLog);
  } catch (err) {
    throw new PersonaError(`Cannot run npm to install node-llama-cpp (${(err as Error).message}). Install Node.js's npm, or install it by hand: ${manual}`, {
      cause: err,
    });
  }
  if (result.code !== 0) {
    throw new PersonaError(
      `Installing node-llama-cpp@${NODE_LLAMA_CPP_VERSION} with npm failed (exit ${result.code}); is the npm registry reachable (offline, proxy)?\n` +
        `${result.tail.slice(-6).join('\n')}\nInstall it by hand with: ${manual}`,
    );
  }
  const installed = await importFromCache(dir);
  if (!installed) {
    throw new PersonaError(
      `npm installed node-llama-cpp into ${dir}, but it cannot be imported (platform ${process.platform}-${process.arch}, Node ${process.version}). Try: ${manual}`,
    );
  }
  onLog(`llama.cpp: node-llama-cpp@${NODE_LLAMA_CPP_VERSION} installed.`);
  return installed;
}
