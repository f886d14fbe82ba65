export {
  GGML_TYPE,
  GGML_ELEMENT_BYTES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_TYPE,
  GGUF_VERSION,
  alignOffset,
  ggmlTypeName,
  ggufValueTypeName,
  type GgmlTypeName,
  type GgufValue,
  type GgufValueTypeName,
} from './ggufTypes.js';
export { decodeGguf, readGguf, ggufTensorFloat32, GGUF_LIMITS, MAX_GGUF_FILE_BYTES, type GgufFile, type GgufTensorInfo } from './decodeGguf.js';
export { encodeGguf, writeGguf, type GgufTensorToWrite, type GgufToWrite } from './encodeGguf.js';
