import { HubError } from '../../errors.js';
import { TOOL_VERSION } from '../../version.js';
import type { HubSettings } from './hubSettings.js';

/** The hub says a repo, revision or file does not exist (HTTP 404). */
export class HubFileNotFoundError extends HubError {
  constructor(
    message: string,
    /** The commit the hub resolved the revision to, when it said so. */
    readonly commit?: string,
  ) {
    super(message);
  }
}

/** The hub could not be reached, or a transfer broke off (connection refused, DNS, reset). */
export class HubNetworkError extends HubError {}

/** Which file a request is for, to word errors. */
export interface FileRequest {
  repoId: string;
  filename: string;
  revision: string;
  settings: HubSettings;
  signal?: AbortSignal;
}

/** What the hub says about a file before its bytes are fetched. */
export interface FileMetadata {
  commit: string;
  /** Blob name in the cache: `X-Linked-Etag` (sha256 of an LFS file) or `ETag`, without quotes or `W/`. */
  etag: string;
  size: number;
  /** Where the bytes are: the CDN for LFS files, the resolve URL otherwise. */
  downloadUrl: string;
}

const MAX_REDIRECTS = 10;

/** `{endpoint}/{repo}/resolve/{revision}/{file}`. */
export function resolveUrl(endpoint: string, repoId: string, revision: string, filename: string): string {
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${filename.split('/').map(encodeURIComponent).join('/')}`;
}

function normalizeEtag(etag: string | null): string | undefined {
  return etag?.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

/**
 * Asks the hub which commit, blob and size a file resolves to (a HEAD request). Relative
 * redirects (renamed repos) are followed; the LFS redirect to the CDN is not, its target is
 * the download URL.
 */
export async function fetchFileMetadata(req: FileRequest): Promise<FileMetadata> {
  let url = resolveUrl(req.settings.endpoint, req.repoId, req.revision, req.filename);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await send(url, 'HEAD', {}, req);
    const commit = res.headers.get('x-repo-commit');
    const location = res.headers.get('location');
    const redirect = res.status >= 300 && res.status < 400 && location;
    if (redirect && !commit) {
      url = new URL(location, url).href;
      continue;
    }
    if (!res.ok && !redirect) throw httpError(res, req);
    const etag = normalizeEtag(res.headers.get('x-linked-etag') ?? res.headers.get('etag'));
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN);
    // Both become file names in the cache: accept only what the hub sends (hex, mostly).
    if (!commit || !/^[0-9a-f]{40}$/.test(commit) || !etag || !/^[\w.-]+$/.test(etag) || /^\.+$/.test(etag) || !Number.isSafeInteger(size) || size < 0) {
      throw new HubError(`${req.settings.endpoint} did not answer like a Hugging Face hub for ${req.filename} of ${req.repoId} (no valid X-Repo-Commit, ETag or size). Check HF_ENDPOINT and any proxy in between.`);
    }
    return { commit, etag, size, downloadUrl: redirect ? new URL(location, url).href : url };
  }
  throw new HubError(`Too many redirects resolving ${req.filename} of ${req.repoId}.`);
}

/**
 * GETs a file's bytes from `start` on, following redirects. Resolves to the 200, 206 or 416
 * response; any other status is a `HubError`.
 */
export async function openDownload(url: string, start: number, req: FileRequest): Promise<Response> {
  const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await send(url, 'GET', headers, req);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url).href;
      continue;
    }
    if (res.ok || res.status === 416) return res;
    throw httpError(res, req);
  }
  throw new HubError(`Too many redirects downloading ${req.filename} of ${req.repoId}.`);
}

async function send(url: string, method: 'HEAD' | 'GET', extra: Record<string, string>, req: FileRequest): Promise<Response> {
  const { endpoint, token, cacheDir } = req.settings;
  const headers: Record<string, string> = { 'User-Agent': `persona-vectors/${TOOL_VERSION}; node/${process.versions.node}`, 'Accept-Encoding': 'identity', ...extra };
  // The token goes to the hub only, never to the CDN an LFS file redirects to.
  if (token && new URL(url).host === new URL(endpoint).host) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(url, { method, headers, redirect: 'manual', signal: req.signal });
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new HubNetworkError(
      `Cannot reach the Hugging Face hub at ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (err as Error).message}). ` +
        `Check your network connection; or set HF_HUB_OFFLINE=1 to use models already in the cache (${cacheDir}); or pass a local model folder.`,
      { cause: err },
    );
  }
}

function httpError(res: Response, req: FileRequest): HubError {
  void res.body?.cancel();
  const { repoId, filename, revision, settings } = req;
  const code = res.headers.get('x-error-code');
  const page = `${settings.endpoint}/${repoId}`;
  if (code === 'RepoNotFound') {
    return new HubFileNotFoundError(`Repo ${repoId} not found on ${settings.endpoint} (HTTP ${res.status}). Check the id; if the repo is private or gated, set HF_TOKEN to a token with access.`);
  }
  if (code === 'RevisionNotFound') return new HubFileNotFoundError(`Revision "${revision}" not found in ${repoId} (HTTP ${res.status}).`);
  if (code === 'GatedRepo' || res.status === 401 || res.status === 403) {
    return new HubError(
      settings.token
        ? `${repoId} refused the access token (HTTP ${res.status}): the model may be gated and the token lack access. Accept its terms at ${page} and check that HF_TOKEN holds a token with read access.`
        : `${repoId} refused access (HTTP ${res.status}): the model may be gated or private. Accept its terms at ${page}, then set HF_TOKEN to an access token (https://huggingface.co/settings/tokens).`,
    );
  }
  if (res.status === 404) {
    return new HubFileNotFoundError(`${filename} not found in ${repoId}@${revision} (HTTP 404): the repo or the file does not exist on ${settings.endpoint}.`, res.headers.get('x-repo-commit') ?? undefined);
  }
  return new HubError(`The hub answered HTTP ${res.status} for ${filename} of ${repoId}; try again later.`);
}
