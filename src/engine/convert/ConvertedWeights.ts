import type { DataTypeId } from '../onnx/onnxProto.js';
import type { Precision } from './Precision.js';

/** One tensor stored in the converted `weights.bin`. */
export interface StoredTensor {
  type: DataTypeId;
  dims: number[];
  offset: number;
  length: number;
}

/** A linear layer y = x·Wᵀ + b, stored either as f32 Wᵀ [in, out] or in MatMulNBits blocks. */
export type StoredLinear =
  | { kind: 'f32'; weight: string; bias?: string; in: number; out: number }
  | { kind: 'nbits'; b: string; scales: string; bias?: string; in: number; out: number; bits: 4 | 8; blockSize: number };

/** Where converted weights came from, for `persona cache` and for telling stale entries apart. */
export interface ConvertedSource {
  /** The model folder, resolved. */
  dir: string;
  /** A hub id (`Qwen/Qwen3-0.6B`) when the folder is a hub-cache snapshot, else the folder. */
  model: string;
  /** The snapshot's commit when the folder is a hub-cache snapshot. */
  revision: string | null;
  /** The checkpoint files as they were when converted. */
  files: { path: string; size: number; mtimeMs: number }[];
}

/** The weights file's identity when it was last verified: a write to it changes its ctime. */
export interface WeightsStamp {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The manifest of a converted checkpoint, written last: its presence means the conversion completed. */
export interface ConvertedWeights {
  formatVersion: number;
  precision: Precision;
  sourceKey: string;
  weightsFile: string;
  totalBytes: number;
  /** sha256 of the whole weights file, checked whenever the file's stamp changed. */
  sha256: string;
  weightsStamp: WeightsStamp;
  source: ConvertedSource;
  /** ISO time of the conversion. */
  createdAt: string;
  tensors: Record<string, StoredTensor>;
  linears: Record<string, StoredLinear>;
}
