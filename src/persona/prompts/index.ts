/** Contrastive prompt sets: from prompt files, from a one-line description, or from a chat generator. */
export { PROMPT_SET_FILES, type ContrastPrompt, type ContrastiveSet } from './PromptSet.js';
export {
  readPromptFile,
  readContrastiveFiles,
  readPromptDir,
  parsePromptText,
  decodePromptLine,
  encodePromptLine,
  type ParsePromptOptions,
  type ReadContrastiveOptions,
} from './readPromptFile.js';
export { QUESTION_BANK } from './questionBank.js';
export {
  describePersona,
  oppositeTrait,
  indefiniteArticle,
  ANTONYM_GROUPS,
  STYLE_PHRASINGS,
  TEMPLATE_COUNT,
  type PersonaDescription,
  type PersonaSide,
  type InstructionPair,
} from './describePersona.js';
export { buildContrastiveSet, type BuildContrastiveSetOptions } from './buildContrastiveSet.js';
export { seededShuffle } from '../../util/random.js';
export {
  generateArtifacts,
  artifactPrompt,
  artifactToContrastiveSet,
  extractJson,
  validateArtifact,
  GeneratorError,
  type ChatGenerator,
  type ChatMessage,
  type TraitArtifact,
  type ArtifactShape,
  type ArtifactSetOptions,
  type GenerateArtifactsOptions,
  type GeneratedArtifacts,
} from './generateArtifacts.js';
export { openAIChatGenerator, type OpenAIChatOptions } from './openAIChatGenerator.js';
export { writePromptFiles, type PromptFilePaths } from './writePromptFiles.js';
