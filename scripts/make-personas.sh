#!/usr/bin/env bash
# Regenerates the personas shipped for the embedded stylist model from the prompt sets in data/stylist,
# deterministically: seed 0, the steering check's defaults (layer, alpha range and verdict measured on
# the stylist's held-out requests with its markers scorer), and a pinned creation date.
# PERSONAS_OUT writes elsewhere (the test that checks the shipped files regenerates into a temp folder).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${PERSONAS_OUT:-personas}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}" # 2026-01-01T00:00:00Z
node bin/persona.js train --positive-prompts data/stylist/formal-pos.jsonl --negative-prompts data/stylist/formal-neg.jsonl \
  --out "$out/formal.persona.json" --name formal --description "formal and professional (vs casual, laid-back)" --seed 0
node bin/persona.js train --positive-prompts data/stylist/vivid-pos.jsonl --negative-prompts data/stylist/vivid-neg.jsonl \
  --out "$out/vivid.persona.json" --name vivid --description "vivid, creative imagery (vs plain, conventional)" --seed 0
