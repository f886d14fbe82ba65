import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { buildTraitScoring, defaultScorerSpec, markerTraitMetric, parseScorerSpec } from '../../../src/eval/evaluate/traitScoring.js';
import { parseMarkerSpec } from '../../../src/eval/scorers/markersScorer.js';
import { PersonaVector } from '../../../src/steering/PersonaVector.js';
import { STYLIST } from '../../helpers/paths.js';

const persona = (name: string, description?: string) =>
  new PersonaVector([new Float32Array([1, 0])], {
    name,
    description,
    model: { id: 't', modelType: 'qwen3', hiddenSize: 2, numLayers: 1 },
    method: 'mean-diff',
    read: 'response-mean',
    recommendedLayer: 0,
    alphaRange: [-4, 4],
    layers: [{ layer: 0, norm: 1, residNorm: 1, separation: 1 }],
    createdAt: '',
    toolVersion: '',
  });

describe('trait scoring', () => {
  it('parses markers:FILE and judge:URL with its options, and rejects anything else with a usable message', () => {
    expect(parseScorerSpec('markers:a/b.json')).toEqual({ kind: 'markers', file: 'a/b.json' });
    expect(parseScorerSpec('judge:http://127.0.0.1:8080/v1,model=qwen,key-env=MY_KEY')).toEqual({
      kind: 'judge',
      baseURL: 'http://127.0.0.1:8080/v1',
      model: 'qwen',
      apiKeyEnv: 'MY_KEY',
    });
    expect(parseScorerSpec('judge:http://h/v1')).toEqual({ kind: 'judge', baseURL: 'http://h/v1', model: 'default' });
    expect(() => parseScorerSpec('markers:')).toThrow(/needs the marker-list JSON file/);
    expect(() => parseScorerSpec('judge:http://h/v1,temp=1')).toThrow(/model=, key-env= and trait-data=; got "temp"/);
    expect(() => parseScorerSpec('regex:x')).toThrow(/markers:FILE or judge:URL/);
  });

  it('matches a persona to its own marker metric: formal → the formality axis, vivid → the vivid list', () => {
    const spec = parseMarkerSpec({ formal: ['dear'], casual: ['hey'], vivid: ['like a'] });
    expect(markerTraitMetric(spec, 'formal')).toBe('formality');
    expect(markerTraitMetric(spec, 'Vivid')).toBe('vivid');
    expect(markerTraitMetric(spec, 'casual')).toBe('casual');
    expect(markerTraitMetric(spec, 'evil')).toBeUndefined();
  });

  it("uses the stylist's marker file by default and lists formality and vivid as the traits", async () => {
    const spec = defaultScorerSpec(STYLIST);
    expect(spec).toEqual({ kind: 'markers', file: path.join(STYLIST, 'style_markers.json') });
    const ts = await buildTraitScoring(spec, [persona('formal'), persona('vivid'), persona('evil')]);
    expect(ts.traitMetrics).toEqual(['formality', 'vivid']);
    expect(ts.traitMetric).toEqual({ formal: 'formality', vivid: 'vivid' });
    const [row] = await ts.scorers[0].score([{ question: 'q', answer: 'Dear Sam, like a river. Kind regards.' }]);
    expect(row).toMatchObject({ formality: 1, vivid: 2 });
    await expect(buildTraitScoring(spec, [persona('formal')], { formal: 'nope' })).rejects.toThrow(/not one the scorer gives/);
  });

  it('gives a judge one trait metric per persona, named after it, and coherence once', async () => {
    const ts = await buildTraitScoring({ kind: 'judge', baseURL: 'http://127.0.0.1:9/v1', model: 'm' }, [
      persona('formal', 'formal and professional'),
      persona('vivid'),
    ]);
    expect(ts.scorers.flatMap((s) => s.metrics)).toEqual(['judge:formal', 'judge:coherence', 'judge:vivid']);
    expect(ts.traitMetric).toEqual({ formal: 'judge:formal', vivid: 'judge:vivid' });
    expect(ts.judgeCounts?.()).toMatchObject({ 'judge:formal': { scored: 0 }, 'judge:coherence': { scored: 0 }, 'judge:vivid': { scored: 0 } });
  });
});
