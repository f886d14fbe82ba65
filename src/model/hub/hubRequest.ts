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
  /** The sha256 the bytes must have: an LFS file's `X-Linked-Etag` when it is 64 hex digits. */
  sha256?: string;
}

/** A download in progress: the response, and its body read chunk by chunk under the read timeout. */
export interface HubDownloadResponse {
  res: Response;
  /**
   * The body's chunks; one that does not come within the read timeout ends the transfer with a
   * `HubNetworkError` (resumable). Leaving the loop early closes the connection.
   */
  chunks(): AsyncGenerator<Uint8Array>;
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
    const { res } = await send(url, 'HEAD', {}, req);
    const commit = res.headers.get('x-repo-commit');
    const location = res.headers.get('location');
    const redirect = res.status >= 300 && res.status < 400 && location;
    if (redirect && !commit) {
      url = new URL(location, url).href;
      continue;
    }
    if (!res.ok && !redirect) throw httpError(res, req);
    const linked = normalizeEtag(res.headers.get('x-linked-etag'));
    const etag = linked ?? normalizeEtag(res.headers.get('etag'));
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN);
    // Both become file names in the cache: accept only what the hub sends (hex, mostly).
    if (!commit || !/^[0-9a-f]{40}$/.test(commit) || !etag || !/^[\w.-]+$/.test(etag) || /^\.+$/.test(etag) || !Number.isSafeInteger(size) || size < 0) {
      throw new HubError(
        `${req.settings.endpoint} did not answer like a Hugging Face hub for ${req.filename} of ${req.repoId} (no valid X-Repo-Commit, ETag or size). Check HF_ENDPOINT and any proxy in between.`,
      );
    }
    const sha256 = linked && /^[0-9a-f]{64}$/.test(linked) ? linked : undefined;
    return { commit, etag, size, downloadUrl: redirect ? new URL(location, url).href : url, ...(sha256 ? { sha256 } : {}) };
  }
  throw new HubError(`Too many redirects resolving ${req.filename} of ${req.repoId}.`);
}

/**
 * GETs a file's bytes from `start` on, following redirects. Resolves to the 200, 206 or 416
 * response; any other status is a `HubError`.
 */
export async function openDownload(url: string, start: number, req: FileRequest): Promise<HubDownloadResponse> {
  const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const { res, ctrl } = await send(url, 'GET', headers, req);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      url = new URL(location, url).href;
      continue;
    }
    if (res.ok || res.status === 416) return { res, chunks: () => watchedChunks(res, ctrl, req) };
    throw httpError(res, req);
  }
  throw new HubError(`Too many redirects downloading ${req.filename} of ${req.repoId}.`);
}

const seconds = (ms: number) => `${+(ms / 1000).toFixed(3)} s`;

async function* watchedChunks(res: Response, ctrl: AbortController, req: FileRequest): AsyncGenerator<Uint8Array> {
  const ms = req.settings.readTimeoutMs;
  const reader = res.body!.getReader();
  let finished = false;
  try {
    for (;;) {
      const timer = setTimeout(
        () =>
          ctrl.abort(
            new HubNetworkError(
              `The download of ${req.filename} of ${req.repoId} stalled: no data for ${seconds(ms)}. Run again to resume it; set HF_HUB_DOWNLOAD_TIMEOUT (seconds) to wait longer on a slow connection.`,
            ),
          ),
        ms,
      );
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        if (ctrl.signal.aborted) throw ctrl.signal.reason;
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done) {
        finished = true;
        return;
      }
      yield chunk.value;
    }
  } finally {
    if (!finished) {
      // Left early (too many bytes, an error): close the connection rather than drain it.
      await reader.cancel().catch(() => {});
      ctrl.abort();
    }
  }
}

/** Aborts when either does (`AbortSignal.any` where Node has it, 20.3 and later). */
function anySignal(outer: AbortSignal, ctrl: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([outer, ctrl.signal]);
  if (outer.aborted) ctrl.abort(outer.reason);
  else outer.addEventListener('abort', () => ctrl.abort(outer.reason), { once: true });
  return ctrl.signal;
}

/** One request with the connect timeout: no status and headers within it aborts the request with a `HubNetworkError`. */
async function send(url: string, method: 'HEAD' | 'GET', extra: Record<string, string>, req: FileRequest): Promise<{ res: Response; ctrl: AbortController }> {
  const { endpoint, token, cacheDir, connectTimeoutMs } = req.settings;
  const headers: Record<string, string> = {
    'User-Agent': `persona-vectors/${TOOL_VERSION}; node/${process.versions.node}`,
    'Accept-Encoding': 'identity',
    ...extra,
  };
  // The token goes to the hub only, never to the CDN an LFS file redirects to.
  if (token && new URL(url).host === new URL(endpoint).host) headers.Authorization = `Bearer ${token}`;
  const ctrl = new AbortController();
  const signal = req.signal ? anySignal(req.signal, ctrl) : ctrl.signal;
  const timer = setTimeout(
    () =>
      ctrl.abort(
        new HubNetworkError(
          `${new URL(url).origin} did not answer ${method} ${req.filename} of ${req.repoId} within ${seconds(connectTimeoutMs)}. Check your network connection or proxy; set HF_HUB_ETAG_TIMEOUT (seconds) to wait longer, or HF_HUB_OFFLINE=1 to use the cache (${cacheDir}).`,
        ),
      ),
    connectTimeoutMs,
  );
  try {
    return { res: await fetch(url, { method, headers, redirect: 'manual', signal }), ctrl };
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    if (ctrl.signal.aborted) throw ctrl.signal.reason;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new HubNetworkError(
      `Cannot reach the Hugging Face hub at ${new URL(url).origin} (${cause?.code ?? cause?.message ?? (err as Error).message}). ` +
        `Check your network connection; or set HF_HUB_OFFLINE=1 to use models already in the cache (${cacheDir}); or pass a local model folder.`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}

function httpError(res: Response, req: FileRequest): HubError {
  void res.body?.cancel();
  const { repoId, filename, revision, settings } = req;
  const code = res.headers.get('x-error-code');
  const page = `${settings.endpoint}/${repoId}`;
  if (code === 'RepoNotFound') {
    return new HubFileNotFoundError(
      `Repo ${repoId} not found on ${settings.endpoint} (HTTP ${res.status}). Check the id; if the repo is private or gated, set HF_TOKEN to a token with access.`,
    );
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
    return new HubFileNotFoundError(
      `${filename} not found in ${repoId}@${revision} (HTTP 404): the repo or the file does not exist on ${settings.endpoint}.`,
      res.headers.get('x-repo-commit') ?? undefined,
    );
  }
  return new HubError(`The hub answered HTTP ${res.status} for ${filename} of ${repoId}; try again later.`);
}
