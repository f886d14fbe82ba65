/** Prompt files: see `prompts/readPromptFile.ts` (kept as the import path the CLI and API use). */
export { readPromptFile, readContrastiveFiles } from './prompts/readPromptFile.js';
export type { ContrastPrompt } from './prompts/PromptSet.js';
