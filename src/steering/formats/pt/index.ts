export { PtTensor, decodeTorchPt, encodeTorchPt, readTorchPt, writeTorchPt, type PtValue } from './torchPt.js';
export { TorchPtError } from './TorchPtError.js';
export { restrictedUnpickle, STORAGE_DTYPES, type PtDtype } from './restrictedUnpickle.js';
export { crc32, readZip, writeZip, TORCH_FIELD_ALIGNMENT, type ZipEntry } from './zipArchive.js';
