import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { ROOT } from '../helpers/paths.js';

// The public API, on purpose: adding or removing a name here is a decision about the package.
const PUBLIC = [
  'loadModel',
  'LanguageModel',
  'modelSpec',
  'DEVICES',
  'DEFAULTS',
  'extractActivations',
  'snapshotDownload',
  'listConversionCache',
  'cleanConversionCache',
  'PersonaVector',
  'computePersonaVector',
  'trainPersona',
  'readPromptFile',
  'readContrastiveFiles',
  'createPromptSet',
  'localChatGenerator',
  'openAIChatGenerator',
  'readPersonaVectorsArtifact',
  'readArtifactSet',
  'judgePairFilter',
  'PERSONA_VECTORS_THRESHOLDS',
  'savePersona',
  'loadPersona',
  'personaFromVectorFile',
  'VECTOR_FILE_FORMATS',
  'writeControlVectorGguf',
  'readControlVectorGguf',
  'writePvSafetensors',
  'readPvSafetensors',
  'writePvPt',
  'readPvPt',
  'readTorchPt',
  'writeTorchPt',
  'addPersonaHook',
  'withPersonaHook',
  'resolveSteering',
  'evaluatePersonas',
  'DEFAULT_ALPHAS',
  'evaluationReport',
  'defaultQuestionSet',
  'readQuestionSet',
  'buildTraitScoring',
  'loadMarkersScorer',
  'createJudgeScorer',
  'distinctNScorer',
  'perplexityScorer',
  'summarize',
  'meanCI',
  'bootstrapCI',
  'wilsonCI',
  'cohensD',
  'lineChart',
  'heatmap',
  'barChart',
  'writeHtmlReport',
  'analyzeLayers',
  'layerReport',
  'contrastFromPersona',
  'recommendSteering',
  'compareMethods',
  'comparisonReport',
  'monitorProjections',
  'MONITOR_UNIT',
  'calibrateMonitor',
  'readChatJsonl',
  'screenDataset',
  'summarizeScreen',
  'screenReportHtml',
  'startServer',
  'ConversionInterruptedError',
  'PersonaError',
  'ModelFileError',
  'UnsupportedModelError',
  'HubError',
  'PersonaFileError',
  'InvalidArgumentError',
  'OutputFileError',
];

describe('the public API (src/index.ts)', () => {
  it('exports exactly the names chosen for it, and no internals', () => {
    expect(Object.keys(api).sort()).toEqual([...PUBLIC].sort());
    for (const internal of ['verifyGolden', 'openDecoder', 'EngineWorker', 'svgToPng', 'measureEvaluationSpeed', 'randomModelFolder', 'scoreContinuations']) {
      expect(api).not.toHaveProperty(internal);
    }
  });

  it('documents every export with an example', () => {
    const lines = readFileSync(path.join(ROOT, 'src/index.ts'), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.startsWith('export ')) return;
      expect(lines[i - 1], `line ${i + 1}: ${line}`).toMatch(/^\/\*\*.*@example .+\*\/$/);
    });
  });
});
