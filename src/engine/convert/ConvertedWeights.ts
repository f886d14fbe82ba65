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

/** The manifest of a converted checkpoint, written last: its presence means the conversion completed. */
export interface ConvertedWeights {
  formatVersion: number;
  precision: Precision;
  sourceKey: string;
  weightsFile: string;
  totalBytes: number;
  tensors: Record<string, StoredTensor>;
  linears: Record<string, StoredLinear>;
}
