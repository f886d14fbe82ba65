export {
  SafetensorsFile,
  readFully,
  readTensorBytes,
  readTensorFloat32,
  READ_CHUNK_BYTES,
  MAX_TENSOR_BYTES,
  MAX_TENSOR_ELEMENTS,
  type ByteRange,
  type TensorInfo,
} from './SafetensorsFile.js';
export { ModelWeights } from './ModelWeights.js';
export { encodeSafetensors, writeSafetensors, type TensorToWrite } from './writeSafetensors.js';
export { toFloat32, toFloat32Into, f16ToF32, type SafetensorsDtype } from './dtypes.js';
