#!/usr/bin/env bash
# The monitoring calibration in docs/monitoring.md: for the stylist's shipped personas, the
# projection at the last prompt token vs the trait score (style_markers.json) of the sampled answer,
# over 9 system prompts (the data/stylist ones, their pairings and none) × 32 questions.
#   bash scripts/make-monitor-calibration.sh [out-dir]   (default docs/monitoring)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/monitoring}"
mkdir -p "$out"
prompts="$out/calibration-prompts.jsonl"
node -e '
const fs = require("fs");
const first = (f) => JSON.parse(fs.readFileSync(f, "utf8").split("\n")[0]).system;
const users = [...new Set(fs.readFileSync("data/stylist/formal-pos.jsonl", "utf8").trim().split("\n").map((l) => JSON.parse(l).user))].slice(0, 32);
const formality = [first("data/stylist/formal-pos.jsonl"), first("data/stylist/formal-neg.jsonl"), null];
const imagery = [first("data/stylist/vivid-pos.jsonl"), first("data/stylist/vivid-neg.jsonl"), null];
const lines = [];
for (const a of formality) for (const b of imagery) {
  const system = [a, b].filter(Boolean).join(" ");
  for (const user of users) lines.push(JSON.stringify(system ? { system, user } : { user }));
}
fs.writeFileSync(process.argv[1], lines.join("\n") + "\n");
' "$prompts"
# persona:metric:layer — the layer whose prompt-end projection predicted best in the per-layer
# table of a first run (formal: 3, vivid: 1); every layer's r is in the JSON (byLayer)
for trait in formal:formality:3 vivid:vivid:1; do
  IFS=: read -r name metric layer <<< "$trait"
  node bin/persona.js monitor --calibrate -p "personas/$name.persona.json" -i "$prompts" --layer "$layer" \
    --markers models/stylist/style_markers.json --metric "$metric" --seed 1 \
    --format json --out "$out/calibration-$name.json" --plot "$out/calibration-$name.svg" 2>/dev/null | tail -n +1
  node -e 'const r = require(process.argv[1]); const f = (x) => x.toFixed(2);
    console.log(`${r.persona} @${r.layer}: r = ${f(r.pearson.estimate)} [${f(r.pearson.lo)}, ${f(r.pearson.hi)}] over ${r.n} answers; system means r = ${f(r.systemPearson.estimate)} [${f(r.systemPearson.lo)}, ${f(r.systemPearson.hi)}]`);
    for (const b of r.byLayer) console.log(`  layer ${b.layer}: r = ${f(b.pearson.estimate)} [${f(b.pearson.lo)}, ${f(b.pearson.hi)}]; system means ${f(b.systemPearson.estimate)} [${f(b.systemPearson.lo)}, ${f(b.systemPearson.hi)}]`)' "$(realpath "$out/calibration-$name.json")"
done
