export { SafetensorsFile, readTensorBytes, readTensorFloat32, type TensorInfo } from './SafetensorsFile.js';
export { ModelWeights } from './ModelWeights.js';
export { encodeSafetensors, writeSafetensors, type TensorToWrite } from './writeSafetensors.js';
export { toFloat32, f16ToF32, type SafetensorsDtype } from './dtypes.js';
