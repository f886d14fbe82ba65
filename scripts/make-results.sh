#!/usr/bin/env bash
# Regenerates results/: the layer analysis and the evaluation of the personas shipped for the
# embedded stylist model (JSON + self-contained HTML + PNG plots). See results/README.md.
# Seeded: the same code on the same machine kind gives the same files. About 10–15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.build.json
persona() { node bin/persona.js "$@"; }
recommended() { node -e "const a = JSON.parse(require('fs').readFileSync('$1', 'utf8')); if (!a.recommendation) process.exit(1); console.log(a.recommendation.layer)"; }

# 1. Layer analysis of each shipped persona: separation, norms, and the layer × alpha steering check
#    with the recommender's own defaults (docs/methods.md), so it names the layer and range the
#    persona file records.
for name in formal vivid; do
  persona analyze-layers --persona "personas/$name.persona.json" --out "results/$name.layers.json" \
    --html "results/$name.layers.html" --png --seed 0 --batch-size 128
done

# 2. Both personas evaluated against each other, each steered at the layer its analysis recommends:
#    dose–response with 95% intervals, unsteered vs steered vs prompted, entanglement.
persona evaluate --persona personas/formal.persona.json --persona personas/vivid.persona.json \
  --layer "formal=$(recommended results/formal.layers.json)" --layer "vivid=$(recommended results/vivid.layers.json)" \
  --num-questions 64 --samples 2 --compare --seed 0 --batch-size 128 \
  --out results/evaluation.json --html results/evaluation.html --png

# 3. The formal persona at layer 3, the layer of the PyTorch reference sweep
#    (test/fixtures/reference/stylist-steering-reference.json), for a side-by-side with it.
persona evaluate --persona personas/formal.persona.json --layer 3 --num-questions 64 --samples 1 --seed 0 --batch-size 128 \
  --out results/formal.layer3.json --html results/formal.layer3.html
