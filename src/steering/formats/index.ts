export {
  decodeControlVectorGguf,
  encodeControlVectorGguf,
  readControlVectorGguf,
  writeControlVectorGguf,
  type ControlVectorDirections,
  type ReadControlVectorOptions,
} from './controlVectorGguf.js';
export {
  PV_LAYOUT,
  PV_TENSOR_NAME,
  decodePvPt,
  encodePvPt,
  encodePvSafetensors,
  readPvFile,
  readPvPt,
  readPvSafetensors,
  writePvPt,
  writePvSafetensors,
  type PvVectors,
  type ReadPvOptions,
} from './personaVectorsPt.js';
export * from '../../gguf/index.js';
export * from './pt/index.js';
