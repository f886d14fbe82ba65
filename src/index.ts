/**
 * persona-vectors: learn a persona direction in a decoder's residual stream and steer with it.
 *
 * This file is the public API, and only that: every export below is documented with an example and
 * pinned by test/package/publicApi.test.ts. Internals (the ONNX session, the engine worker, the
 * safetensors and tokenizer readers, golden verification, benchmarks) are imported from their own
 * modules by the CLI, the server and the tests.
 *
 * @example
 * import { loadModel, computePersonaVector, addPersonaHook } from 'persona-vectors';
 * const model = await loadModel();                      // embedded stylist, or 'Qwen/Qwen3-0.6B'
 * const { persona } = await computePersonaVector({ model, positivePrompts, negativePrompts, name: 'formal' });
 * const hook = addPersonaHook(model, persona, { alpha: 4 });
 * const [answer] = await model.generate(['Invite Sam to lunch.']);
 * hook.remove();
 */

// ---- models ---------------------------------------------------------------------------------------

/** Loads a model folder or hub id (the embedded stylist when none). @example const model = await loadModel('Qwen/Qwen3-0.6B', { precision: 'q4' }); */
export { loadModel } from './engine/LanguageModel.js';
/** A loaded model: generate, chat, read activations. @example const [out] = await (await loadModel()).generate(['Write a thank-you note to Sam.'], { maxNewTokens: 48 }); */
export {
  LanguageModel,
  type Prompt,
  type ChatMessage,
  type GenerateTextOptions,
  type GeneratedText,
  type LoadModelOptions,
  type LanguageModelParts,
} from './engine/LanguageModel.js';
/** Which model to load and how to run it, as plain data. @example await loadModel(modelSpec('Qwen/Qwen3-0.6B', { precision: 'q4' })); */
export { modelSpec, type ModelSpec, type Device, type Precision } from './engine/ModelSpec.js';
/** The execution providers a model can run on. @example DEVICES.includes('cuda'); // true */
export { DEVICES } from './engine/ModelSpec.js';
/** Every default the library and the CLI share. @example DEFAULTS.sampling.topK; // 50 */
export { DEFAULTS } from './engine/defaults.js';
/** Residual-stream activations of prompt + answer pairs, pooled per layer. @example const acts = await extractActivations(model, [{ promptIds, answerIds }]); */
export { extractActivations } from './engine/extractActivations.js';
/** Downloads a hub model's files into the Hugging Face cache layout. @example const dir = await snapshotDownload('Qwen/Qwen3-0.6B'); */
export { snapshotDownload } from './model/hub/index.js';
/** The converted-weights cache (f32, q8, q4). @example for (const e of await listConversionCache()) console.log(e.model, e.precision, e.bytes); */
export { listConversionCache, type ConversionCacheEntry, type ConversionCacheStatus } from './engine/convert/conversionCache.js';
/** Removes converted weights from the cache. @example const { removed, freedBytes } = await cleanConversionCache({ model: 'Qwen/Qwen3-0.6B' }); */
export { cleanConversionCache } from './engine/convert/conversionCache.js';

// ---- persona vectors ------------------------------------------------------------------------------

/** A persona vector: per-layer raw differences + metadata, with vector arithmetic. @example const mixed = formal.scale(0.5).add(vivid); */
export { PersonaVector, type PersonaMeta } from './steering/PersonaVector.js';
/** Mean-difference persona vector from contrastive prompts. @example const { persona } = await computePersonaVector({ model, positivePrompts, negativePrompts, name: 'formal' }); */
export { computePersonaVector, type ComputePersonaOptions } from './persona/computePersonaVector.js';
/** computePersonaVector plus the layer check and the saved file (`persona train`). @example const persona = await trainPersona({ model, positivePrompts, negativePrompts, name: 'formal', out: 'formal.persona.json' }); */
export { trainPersona, type TrainOptions, type SteeringRecorder } from './persona/trainPersona.js';
/** Reads a prompt file (text, JSONL or JSON). @example const prompts = await readPromptFile('data/stylist/formal-pos.jsonl'); */
export { readPromptFile } from './persona/promptFiles.js';
/** Reads a positive and a negative prompt file as row-aligned pairs. @example const { positive, negative } = await readContrastiveFiles('pos.jsonl', 'neg.jsonl'); */
export { readContrastiveFiles } from './persona/promptFiles.js';
/** A contrastive prompt set from a one-line description (`persona create`). @example const set = await createPromptSet({ personality: 'formal and professional', numPrompts: 64 }); */
export { createPromptSet } from './persona/createPromptSet.js';
/** The loaded model as a chat generator (what createPromptSet uses for `generator: 'local'`). @example const chat = localChatGenerator(model); */
export { localChatGenerator } from './persona/createPromptSet.js';
/** A chat generator backed by an OpenAI-compatible server (what createPromptSet uses for a URL generator). @example const chat = openAIChatGenerator({ baseURL: 'http://127.0.0.1:8080/v1', model: 'qwen' }); */
export { openAIChatGenerator } from './persona/prompts/index.js';
/** Reads one persona_vectors trait file (`trait_data_extract/evil.json`). @example const a = await readPersonaVectorsArtifact('trait_data_extract/evil.json'); */
export { readPersonaVectorsArtifact } from './persona/prompts/personaVectorsArtifact.js';
/** A contrastive set from persona_vectors trait files, as their `eval/eval_persona.py` builds it. @example const set = await readArtifactSet('trait_data_extract/evil.json', 'trait_data_eval/evil.json'); */
export { readArtifactSet } from './persona/prompts/personaVectorsArtifact.js';
/** persona_vectors' judge filter of answer pairs (positive ≥ 50, negative < 50, coherence ≥ 50), for computePersonaVector's `pairFilter`. @example const pairFilter = judgePairFilter(createJudgeScorer({ baseURL, model: 'judge', trait, metrics: ['trait', 'coherence'] }), { description: 'judge' }); */
export { judgePairFilter, PERSONA_VECTORS_THRESHOLDS, type PairFilter, type PairFilterThresholds } from './persona/pairFilter.js';

// ---- persona files and formats --------------------------------------------------------------------

/** Saves a persona as `<name>.persona.json` + its safetensors sidecar. @example await savePersona(vector, 'personas/formal.persona.json'); */
export { savePersona } from './steering/personaFile.js';
/** Loads a persona by name or path. @example const formal = await loadPersona('formal'); */
export { loadPersona } from './steering/personaFile.js';
/** A persona from a vector file of another tool (GGUF control vector, persona_vectors .pt, safetensors). @example const { persona } = await personaFromVectorFile(bytes, { format: 'pt', name: 'evil', model }); */
export { personaFromVectorFile, VECTOR_FILE_FORMATS } from './steering/formats/personaFromVectorFile.js';
/** llama.cpp control vectors (GGUF). @example await writeControlVectorGguf('formal.gguf', { modelHint: 'qwen3', hiddenSize: 1024, directions }); */
export { writeControlVectorGguf, readControlVectorGguf } from './steering/formats/index.js';
/** persona_vectors' `[L+1, H]` layout as safetensors. @example await writePvSafetensors('formal.safetensors', formal.vectors); */
export { writePvSafetensors, readPvSafetensors } from './steering/formats/index.js';
/** persona_vectors' `[L+1, H]` layout as a torch .pt file. @example await writePvPt('formal_response_avg_diff.pt', formal.vectors); */
export { writePvPt, readPvPt } from './steering/formats/index.js';
/** Any torch .pt file of tensors, read without running pickle code. @example const value = await readTorchPt('vectors.pt'); */
export { readTorchPt, writeTorchPt } from './steering/formats/index.js';

// ---- steering -------------------------------------------------------------------------------------

/** Adds a persona to the residual stream until `remove()`. @example const hook = addPersonaHook(model, formal, { alpha: 4, layer: 3 }); await model.generate(['Hi']); hook.remove(); */
export { addPersonaHook } from './steering/addPersonaHook.js';
/** The scoped form of addPersonaHook: removed when the callback settles. @example const out = await withPersonaHook(model, formal, { alpha: 4 }, () => model.generate(['Hi'])); */
export { withPersonaHook } from './steering/addPersonaHook.js';
/** Steering specs (add, ablate, cap; layers; positions) resolved to one intervention. @example const iv = resolveSteering(model, [{ persona: formal, alpha: 4, layer: 3 }, { persona: vivid, operator: 'ablate' }]); */
export { resolveSteering, type SteerOptions, type SteerSpec, type Units } from './steering/resolveSteering.js';

// ---- evaluation -----------------------------------------------------------------------------------

/** An alpha sweep of one or more personas, scored. @example const result = await evaluatePersonas(model, { personas: [formal], questions, traitScoring }); */
export { evaluatePersonas, type EvaluateOptions, type EvaluationResult } from './eval/evaluate/evaluatePersonas.js';
/** The alphas an evaluation sweeps by default. @example await evaluatePersonas(model, { personas, questions, alphas: [...DEFAULT_ALPHAS, 12] }); */
export { DEFAULT_ALPHAS } from './eval/evaluate/evaluatePersonas.js';
/** The HTML report of an evaluation. @example await writeHtmlReport('results/formal.html', evaluationReport(result)); */
export { evaluationReport } from './eval/evaluate/evaluationReport.js';
/** The built-in question set, split into extraction and evaluation questions. @example const qs = defaultQuestionSet(model.dir, 32); // qs.evaluation.length === 32 */
export { defaultQuestionSet } from './eval/evaluate/questionSets.js';
/** A question set from a file. @example const qs = await readQuestionSet('my-questions.txt', model.dir); */
export { readQuestionSet } from './eval/evaluate/questionSets.js';
/** The trait scorers of an evaluation (markers or an LLM judge) and which metric each persona moves. @example const ts = await buildTraitScoring({ kind: 'markers', file: 'models/stylist/style_markers.json' }, [formal]); */
export { buildTraitScoring } from './eval/evaluate/traitScoring.js';
/** A scorer from a marker-list JSON file. @example const [row] = await (await loadMarkersScorer('models/stylist/style_markers.json')).score([{ question: 'Invite Sam.', answer: 'Dear Sam, kindly join us.' }]); */
export { loadMarkersScorer } from './eval/scorers/markersScorer.js';
/** An LLM-judge scorer over an OpenAI-compatible server. @example const judge = createJudgeScorer({ baseURL: 'http://127.0.0.1:8080/v1', model: 'judge', trait: { name: 'formal', description: 'Writes like a formal letter.' } }); */
export { createJudgeScorer } from './eval/scorers/judgeScorer.js';
/** Distinct-n, a coherence scorer. @example const [row] = await distinctNScorer().score([{ question: 'q', answer: 'a b a b' }]); // { distinct1: 0.5, … } */
export { distinctNScorer } from './eval/scorers/coherenceScorers.js';
/** Perplexity of answers under a log-probability source, a coherence scorer. @example const ppl = perplexityScorer({ answerLogProbs: (items) => engine.answerLogProbs(items) }); */
export { perplexityScorer } from './eval/scorers/coherenceScorers.js';
/** Mean, std and a t interval of a metric, counting unscorable answers. @example summarize([0.5, null, 1, 0]); // { n: 3, missing: 1, mean: 0.5, … } */
export { summarize } from './eval/stats.js';
/** Student-t interval of a mean. @example meanCI([1, 2, 3, 4, 5]); // { estimate: 3, lo: 1.0368…, hi: 4.9632…, level: 0.95 } */
export { meanCI } from './eval/stats.js';
/** Seeded percentile bootstrap interval of a statistic. @example bootstrapCI([0, 0, 1, 5, 9], { seed: 7 }); */
export { bootstrapCI } from './eval/stats.js';
/** Wilson interval of a rate. @example wilsonCI(45, 50); // { estimate: 0.9, lo: 0.786…, hi: 0.956…, level: 0.95 } */
export { wilsonCI } from './eval/stats.js';
/** Cohen's d with the pooled standard deviation. @example cohensD([3, 4, 5, 6, 7], [1, 2, 3, 4, 5]); // 1.2649… */
export { cohensD } from './eval/stats.js';
/** An SVG line chart with interval bands. @example const svg = lineChart({ title: 'formal', xLabel: 'alpha', yLabel: 'formality', series: [{ name: 'formality', points: [{ x: 0, y: 0.1 }] }] }); */
export { lineChart } from './eval/plots/lineChart.js';
/** An SVG heatmap. @example const svg = heatmap({ title: 'Δ formality', rows: [0, 1], cols: [-4, 4], values: [[-0.1, 0.1], [-0.6, 0.5]], yLabel: 'layer', xLabel: 'alpha' }); */
export { heatmap } from './eval/plots/heatmap.js';
/** An SVG grouped bar chart with intervals. @example const svg = barChart({ title: 'entanglement', yLabel: 'change', groups: ['formal'], series: [{ name: 'formality', values: [{ y: 0.5 }] }] }); */
export { barChart } from './eval/plots/barChart.js';
/** Writes a self-contained HTML report. @example await writeHtmlReport('results/formal.html', { title: 'formal persona', sections: [] }); */
export { writeHtmlReport } from './eval/report/htmlReport.js';

// ---- layers ---------------------------------------------------------------------------------------

/** Every layer of a persona: separation, norms, steering effect, the recommendation. @example const a = await analyzeLayers(model, formal, { questions: qs.evaluation, contrast: contrastFromPersona(formal, qs.extraction) }); */
export { analyzeLayers } from './eval/layers/analyzeLayers.js';
/** The HTML report of a layer analysis. @example await writeHtmlReport('results/formal.layers.html', layerReport(analysis)); */
export { layerReport } from './eval/layers/layerReport.js';
/** Contrastive pairs from a persona's own system prompts. @example const pairs = contrastFromPersona(formal, qs.extraction); */
export { contrastFromPersona } from './persona/contrastPrompts.js';
/** The layer and alpha a persona steers best at, or a verdict that it does not steer. @example const { recommendation } = await recommendSteering(model, formal, { traitScoring }); */
export { recommendSteering, type SteeringRecommendation, type RecommendOptions } from './eval/layers/recommendSteering.js';
/** Extraction methods compared on one contrastive set. @example const c = await compareMethods(model, { positivePrompts, negativePrompts, methods: ['mean-diff', 'pca-centred'], traitScoring }); */
export { compareMethods, type MethodComparison } from './eval/layers/compareMethods.js';
/** The HTML report of a method comparison. @example await writeHtmlReport('methods.html', comparisonReport(c)); */
export { comparisonReport } from './eval/layers/compareMethods.js';

// ---- monitoring and screening ---------------------------------------------------------------------

/** Projections of conversations on persona directions. @example const [row] = await monitorProjections(model, [{ messages: [{ role: 'user', content: 'Thank Sam.' }] }], [{ persona: formal }]); */
export { monitorProjections, type MonitorTarget, type MonitorRow } from './eval/monitor/monitorProjections.js';
/** The unit monitor projections are in. @example console.log(`${row.projections[0].promptLast.toFixed(2)} ${MONITOR_UNIT}`); */
export { MONITOR_UNIT } from './eval/monitor/monitorProjections.js';
/** How well a monitor projection predicts a trait score. @example const r = await calibrateMonitor(model, { target: { persona: formal }, prompts, score, metric: 'formality' }); */
export { calibrateMonitor } from './eval/monitor/calibrateMonitor.js';
/** Reads a chat dataset (JSONL). @example for await (const s of readChatJsonl('data.jsonl')) console.log(s.messages.length); */
export { readChatJsonl } from './eval/monitor/readChatJsonl.js';
/** Screens a dataset's samples by their projections, resumable. @example const stats = await screenDataset(model, { dataset: 'train.jsonl', targets: [{ persona: evil }], checkpoint: 'out/screen.checkpoint.jsonl' }); */
export { screenDataset } from './eval/screen/screenDataset.js';
/** Summarises a screening checkpoint: thresholds and flagged samples. @example const s = await summarizeScreen('out/screen.checkpoint.jsonl', 0.1); */
export { summarizeScreen } from './eval/screen/screenReport.js';
/** The HTML report of a screening. @example await fs.writeFile('screen.html', await screenReportHtml(summary, 'train.jsonl', 'screen.checkpoint.jsonl')); */
export { screenReportHtml } from './eval/screen/screenReport.js';

// ---- serving --------------------------------------------------------------------------------------

/** An OpenAI-compatible server with persona steering. @example const server = await startServer({ port: 8080 }); await server.close(); */
export { startServer, type PersonaServer, type ServeOptions } from './server/startServer.js';

// ---- errors ---------------------------------------------------------------------------------------

/** Converting weights was interrupted; the cache holds no partial result. @example if (err instanceof ConversionInterruptedError) process.exitCode = 130; */
export { ConversionInterruptedError } from './engine/convert/ConversionInterruptedError.js';
/** The error classes: every error on bad input is a PersonaError with a message a user can act on. @example if (err instanceof PersonaFileError) console.error(err.message); */
export { PersonaError, ModelFileError, UnsupportedModelError, HubError, PersonaFileError, InvalidArgumentError, OutputFileError } from './errors.js';
