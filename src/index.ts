/**
 * persona-vectors: learn a persona direction in a decoder's residual stream and steer with it.
 *
 * @example
 * import { loadModel, computePersonaVector, addPersonaHook } from 'persona-vectors';
 * const model = await loadModel();                      // embedded stylist, or 'Qwen/Qwen3-0.6B'
 * const { persona } = await computePersonaVector({ model, positivePrompts, negativePrompts, name: 'formal' });
 * const remove = addPersonaHook(model, persona, { alpha: 4 });
 * const [answer] = await model.generate(['Invite Sam to lunch.']);
 * remove();
 */
export { loadModel, LanguageModel, type Prompt, type ChatMessage, type GenerateTextOptions, type GeneratedText, type LoadModelOptions } from './engine/LanguageModel.js';
export { computePersonaVector, type ComputePersonaOptions } from './persona/computePersonaVector.js';
export { trainPersona } from './persona/trainPersona.js';
export { recommendLayer } from './persona/recommendLayer.js';
export { extractActivations } from './persona/extractActivations.js';
export { readPromptFile, readContrastiveFiles } from './persona/promptFiles.js';
export { PersonaVector, type PersonaMeta } from './steering/PersonaVector.js';
export { savePersona, loadPersona } from './steering/personaFile.js';
export { addPersonaHook, withPersonaHook } from './steering/addPersonaHook.js';
export { resolveSteering, type SteerOptions, type SteerSpec, type Units } from './steering/resolveSteering.js';
export { verifyGolden } from './engine/verify/verifyGolden.js';
export { openDecoder } from './engine/openDecoder.js';
export { normalizeConfig, loadConfig } from './model/config/loadConfig.js';
export { SafetensorsFile, ModelWeights } from './model/safetensors/index.js';
export { loadTokenizer, Tokenizer } from './model/tokenizer/Tokenizer.js';
export * from './errors.js';
