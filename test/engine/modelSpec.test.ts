import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/engine/defaults.js';
import { loadModel } from '../../src/engine/LanguageModel.js';
import { modelSpec } from '../../src/engine/ModelSpec.js';
import { DEFAULT_MODEL_DIR } from '../../src/model/defaultModel.js';
import { STYLIST } from '../helpers/paths.js';

describe('a model spec', () => {
  it('names the embedded stylist when no model is given, and keeps only the fields it declares', () => {
    expect(modelSpec()).toEqual({ model: DEFAULT_MODEL_DIR });
    expect(modelSpec('Qwen/Qwen3-0.6B', { precision: 'q4', revision: 'main' })).toEqual({ model: 'Qwen/Qwen3-0.6B', precision: 'q4', revision: 'main' });
    const wider = { model: 'm', threads: 2, port: 8080, personasDir: 'p', device: undefined };
    expect(modelSpec(wider)).toEqual({ model: 'm', threads: 2 });
  });

  it("takes an object's own fields over the settings, and the settings where the object has none", () => {
    expect(modelSpec({ model: 'm', threads: undefined, precision: 'q8' }, { threads: 3, precision: 'f32' })).toEqual({
      model: 'm',
      threads: 3,
      precision: 'q8',
    });
  });

  it('loads the same model from a spec as from an id and settings', async () => {
    const a = await loadModel(STYLIST, { precision: 'f32', threads: 1 });
    const b = await loadModel({ model: STYLIST, precision: 'f32', threads: 1 });
    try {
      expect(b.id).toBe(a.id);
      expect(b.dir).toBe(a.dir);
      expect(b.precision).toBe(DEFAULTS.model.precision);
      const [x] = await a.generate(['Thank Ana for the tea.'], { maxNewTokens: 12 });
      const [y] = await b.generate(['Thank Ana for the tea.'], { maxNewTokens: 12 });
      expect(y.text).toBe(x.text);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });
});
