export { hubCacheDir, hfHome, repoCacheDir, lookupCachedFile, isCommitHash, type CacheLookup } from './hubCache.js';
export { hubDownload, type HubDownloadOptions, type HubFile } from './hubDownload.js';
export { isRepoId, parseHubSpec } from './hubIds.js';
export { HubFileNotFoundError, HubNetworkError } from './hubRequest.js';
export { resolveHubSettings, type HubOptions, type HubSettings } from './hubSettings.js';
export { snapshotDownload, type SnapshotDownloadOptions } from './snapshotDownload.js';
