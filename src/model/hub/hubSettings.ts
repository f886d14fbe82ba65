import { promises as fs } from 'node:fs';
import path from 'node:path';
import { HubError, InvalidArgumentError } from '../../errors.js';
import type { ProgressCallback } from '../../util/progress.js';
import { hfHome, hubCacheDir } from './hubCache.js';

/** Options shared by every hub call. Each falls back to the environment variable huggingface_hub reads. */
export interface HubOptions {
  /** Cache folder; default `HF_HUB_CACHE`, `HF_HOME/hub` or `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Hub address; default `HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Access token; default `HF_TOKEN`, else the token file `huggingface-cli login` writes. `false` sends none. */
  token?: string | false;
  /** Never touch the network; default `HF_HUB_OFFLINE`. */
  offline?: boolean;
  /** Aborting leaves only a resumable `.incomplete` file. */
  signal?: AbortSignal;
  /** Download progress, in bytes, one phase per file. */
  onProgress?: ProgressCallback;
  /** Environment to read instead of `process.env`. */
  env?: Record<string, string | undefined>;
  /** How long to wait for the hub's answer (status and headers) to a request; default `HF_HUB_ETAG_TIMEOUT` seconds, else 10 s. */
  connectTimeoutMs?: number;
  /** How long a download may go without receiving a byte; default `HF_HUB_DOWNLOAD_TIMEOUT` seconds, else 10 s. */
  readTimeoutMs?: number;
}

export interface HubSettings {
  cacheDir: string;
  endpoint: string;
  token?: string;
  offline: boolean;
  /** How offline mode was asked for, for error messages. */
  offlineReason: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
}

/** huggingface_hub's default for both timeouts (`HF_HUB_ETAG_TIMEOUT`, `HF_HUB_DOWNLOAD_TIMEOUT`). */
export const DEFAULT_HUB_TIMEOUT_MS = 10_000;

const TRUE = new Set(['1', 'ON', 'YES', 'TRUE']);

/**
 * Resolves the options against the environment.
 *
 * @example const { cacheDir, endpoint } = await resolveHubSettings({});
 */
export async function resolveHubSettings(opts: HubOptions = {}): Promise<HubSettings> {
  const env = opts.env ?? process.env;
  const offlineEnv = TRUE.has((env.HF_HUB_OFFLINE ?? '').toUpperCase());
  return {
    cacheDir: opts.cacheDir ?? hubCacheDir(env),
    endpoint: (opts.endpoint || env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, ''),
    token: opts.token === false ? undefined : opts.token || (await readToken(env)),
    offline: opts.offline ?? offlineEnv,
    offlineReason: opts.offline === undefined ? 'HF_HUB_OFFLINE is set' : 'offline mode is on',
    connectTimeoutMs: timeout(opts.connectTimeoutMs, 'connectTimeoutMs', env, 'HF_HUB_ETAG_TIMEOUT'),
    readTimeoutMs: timeout(opts.readTimeoutMs, 'readTimeoutMs', env, 'HF_HUB_DOWNLOAD_TIMEOUT'),
  };
}

function timeout(option: number | undefined, name: string, env: Record<string, string | undefined>, variable: string): number {
  if (option !== undefined) {
    if (!(Number.isFinite(option) && option > 0))
      throw new InvalidArgumentError(`The hub option ${name} must be a positive number of milliseconds, not ${option}.`);
    return option;
  }
  const text = env[variable]?.trim();
  if (!text) return DEFAULT_HUB_TIMEOUT_MS;
  const seconds = Number(text);
  if (!(Number.isFinite(seconds) && seconds > 0))
    throw new InvalidArgumentError(
      `${variable}=${JSON.stringify(env[variable])} is not a positive number of seconds; unset it or give one (for example ${variable}=30).`,
    );
  return seconds * 1000;
}

async function readToken(env: Record<string, string | undefined>): Promise<string | undefined> {
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  try {
    const token = (await fs.readFile(env.HF_TOKEN_PATH || path.join(hfHome(env), 'token'), 'utf8')).trim();
    return token || undefined;
  } catch {
    return undefined;
  }
}

/** The error for a file that is not cached while offline. */
export function offlineError(settings: HubSettings, what: string, repoId: string, revision: string): HubError {
  return new HubError(
    `Offline (${settings.offlineReason}), and ${what} of ${repoId}@${revision} is not in the cache at ${settings.cacheDir}. ` +
      `Download the model once while online, or pass a local model folder.`,
  );
}
