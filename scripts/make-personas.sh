#!/usr/bin/env bash
# Regenerates the personas shipped for the embedded stylist model from the prompt sets in data/stylist.
set -euo pipefail
cd "$(dirname "$0")/.."
node bin/persona.js train --positive-prompts data/stylist/formal-pos.jsonl --negative-prompts data/stylist/formal-neg.jsonl \
  --out personas/formal.persona.json --name formal --description "formal and professional (vs casual, laid-back)" --seed 0
node bin/persona.js train --positive-prompts data/stylist/vivid-pos.jsonl --negative-prompts data/stylist/vivid-neg.jsonl \
  --out personas/vivid.persona.json --name vivid --description "vivid, creative imagery (vs plain, conventional)" --seed 0
