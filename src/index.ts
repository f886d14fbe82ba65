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
export { trainPersona, type TrainOptions, type SteeringRecorder } from './persona/trainPersona.js';
export { compareMethods, comparisonReport, type MethodComparison } from './eval/layers/compareMethods.js';
export { recommendSteering, recordSteering, withRecommendation, steeringSummary, RECOMMENDER_DEFAULTS, type SteeringCheck, type SteeringRecommendation, type RecommendOptions } from './eval/layers/recommendSteering.js';
export { extractActivations } from './engine/extractActivations.js';
export { readPromptFile, readContrastiveFiles } from './persona/promptFiles.js';
export { PersonaVector, type PersonaMeta } from './steering/PersonaVector.js';
export { savePersona, loadPersona } from './steering/personaFile.js';
export { addPersonaHook, withPersonaHook } from './steering/addPersonaHook.js';
export { resolveSteering, type SteerOptions, type SteerSpec, type Units } from './steering/resolveSteering.js';
export { verifyGolden } from './engine/verify/verifyGolden.js';
export { openDecoder } from './engine/openDecoder.js';
export { normalizeConfig, loadConfig } from './model/config/loadConfig.js';
export { SafetensorsFile, ModelWeights } from './model/safetensors/index.js';
export { listConversionCache, cleanConversionCache, type ConversionCacheEntry, type ConversionCacheStatus } from './engine/convert/conversionCache.js';
export { personaCacheDir } from './engine/convert/convertWeights.js';
export { ConversionInterruptedError } from './engine/convert/ConversionInterruptedError.js';
export { loadTokenizer, Tokenizer } from './model/tokenizer/Tokenizer.js';
export * from './errors.js';
export { scoreContinuations } from './engine/generate/scoreContinuations.js';
export { EngineWorker } from './engine/worker/EngineWorker.js';
export { snapshotDownload, hubDownload, hubCacheDir } from './model/hub/index.js';
export { resolveModelSource } from './model/resolveModel.js';
export { buildContrastiveSet, describePersona, generateArtifacts, openAIChatGenerator, writePromptFiles, QUESTION_BANK } from './persona/prompts/index.js';
export { createPromptSet, localChatGenerator } from './persona/createPromptSet.js';
export { writeControlVectorGguf, readControlVectorGguf, writePvSafetensors, readPvSafetensors } from './steering/formats/index.js';
export { readPvPt, writePvPt, decodePvPt, encodePvPt, readPvFile, readTorchPt, writeTorchPt, decodeTorchPt, encodeTorchPt, PtTensor, TorchPtError } from './steering/formats/index.js';
export { defaultImportLayer } from './steering/formats/defaultImportLayer.js';
export { personaFromVectorFile, VECTOR_FILE_FORMATS } from './steering/formats/personaFromVectorFile.js';
export { readPersonaVectorsArtifact, readArtifactSet, artifactContrastiveSet } from './persona/prompts/personaVectorsArtifact.js';
export { monitorProjections, MONITOR_UNIT, type MonitorTarget, type MonitorRow } from './eval/monitor/monitorProjections.js';
export { calibrateMonitor, calibrationPlot, pearson } from './eval/monitor/calibrateMonitor.js';
export { readChatJsonl, parseChatLine } from './eval/monitor/readChatJsonl.js';
export { screenDataset } from './eval/screen/screenDataset.js';
export { summarizeScreen, screenCsv, screenJson, screenReportHtml } from './eval/screen/screenReport.js';
export { ScreenCheckpoint } from './eval/screen/ScreenCheckpoint.js';
export { loadMarkersScorer } from './eval/scorers/markersScorer.js';
export { createJudgeScorer } from './eval/scorers/judgeScorer.js';
export { distinctNScorer, perplexityScorer } from './eval/scorers/coherenceScorers.js';
export { summarize, meanCI, bootstrapCI, wilsonCI, cohensD } from './eval/stats.js';
export { lineChart } from './eval/plots/lineChart.js';
export { heatmap } from './eval/plots/heatmap.js';
export { barChart } from './eval/plots/barChart.js';
export { svgToPng } from './eval/plots/svgToPng.js';
export { writeHtmlReport } from './eval/report/htmlReport.js';
export { evaluatePersonas, DEFAULT_ALPHAS, type EvaluateOptions, type EvaluationResult } from './eval/evaluate/evaluatePersonas.js';
export { evaluationReport, evaluationFigures } from './eval/evaluate/evaluationReport.js';
export { defaultQuestionSet, readQuestionSet } from './eval/evaluate/questionSets.js';
export { buildTraitScoring, parseScorerSpec } from './eval/evaluate/traitScoring.js';
export { projectionScorer } from './eval/evaluate/projectionScorer.js';
export { unsteeredReader } from './eval/evaluate/unsteeredReader.js';
export { unsteeredLogProbSource } from './eval/evaluate/unsteeredLogProbSource.js';
export { measureEvaluationSpeed, randomModelFolder } from './bench/measureEvaluationSpeed.js';
export { analyzeLayers } from './eval/layers/analyzeLayers.js';
export { layerReport, layerFigures } from './eval/layers/layerReport.js';
export { startServer, type PersonaServer, type ServeOptions } from './server/startServer.js';
export { contrastFromPersona } from './eval/layers/contrastPrompts.js';
