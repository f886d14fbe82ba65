# Writes an experimental copy of dist/engine/graph/buildDecoderGraph.js (issue #16, low-precision
# batching) whose attention is built in 5-D when globalThis.__ATT is 'att5d' or 'att5dalpha':
# q [B,kvH,G,T,D] against the cache unsqueezed to [B,kvH,1,C,D], so each score/context GEMM has
# M = T (1 in decode) instead of G·T; 'att5d' moves the attention scale onto q so the GEMMs run with
# alpha = 1 (MLAS's M = 1 kernels need it), 'att5dalpha' keeps it on FusedMatMul.
#   python3 scripts/lowprec-expgraph.py /tmp/lp/expGraph.js
#   EXP_GRAPH=/tmp/lp/expGraph.js node scripts/lowprec-batch.mjs q4 8 base att5d att5dalpha
import os, sys
root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
src = open(os.path.join(root, 'dist/engine/graph/buildDecoderGraph.js')).read()
src = (src.replace("from '../../model/", f"from '{root}/dist/model/")
          .replace("from '../onnx/", f"from '{root}/dist/engine/onnx/")
          .replace("from './rope.js'", f"from '{root}/dist/engine/graph/rope.js'")
          .replace("from './GraphOptions.js'", f"from '{root}/dist/engine/graph/GraphOptions.js'"))
old_q = "            q = g.op('RotaryEmbedding', [q, r.cos, r.sin, positionIds], { interleaved: 0 });\n"
assert old_q in src
src = src.replace(old_q, "            if (globalThis.__ATT === 'att5d') q = g.mul(q, g.f32([c.attentionScale]));\n" + old_q)
start = src.index("            const qg = g.reshape(q, [0, kvH, -1, D]);")
end = src.index("            const merged = ")
new = '''            let ctx;
            if (globalThis.__ATT === 'att5d' || globalThis.__ATT === 'att5dalpha') {
                const G = qH / kvH;
                const alpha = globalThis.__ATT === 'att5d' ? 1 : c.attentionScale;
                const q5 = g.reshape(q, [0, kvH, G, -1, D]);
                const qk = (keys) => g.op('FusedMatMul', [q5, g.unsqueeze(keys, [2])], { transA: 0, transB: 1, alpha: { float: alpha } }, undefined, 'com.microsoft');
                let scores = g.concat([qk(pastK), qk(newK)], 4);
                scores = g.add(scores, bias5[layerType === 'sliding_attention' ? 1 : 0]);
                const probs = g.op('Softmax', [scores], { axis: -1 });
                const pPast = g.op('Slice', [probs, g.i64([0]), cacheLength, g.i64([4])]);
                const pNew = g.op('Slice', [probs, cacheLength, g.i64([Number.MAX_SAFE_INTEGER]), g.i64([4])]);
                ctx = g.add(g.matmul(pPast, g.unsqueeze(pastV, [2])), g.matmul(pNew, g.unsqueeze(newV, [2])));
            } else {
'''
body = src[start:end].replace("const ctx = g.add", "ctx = g.add")
src = src[:start] + new + body + "            }\n" + src[end:]
anchor = "    const cacheLength = g.op('Shape', ['past_k_0'], { start: 2, end: 3 }); // [1]\n"
assert anchor in src
src = src.replace(anchor, anchor + '''    const bias5 = [attnBias, attnBiasSliding].map((b) => g.op('Reshape', [b, g.concat([g.op('Shape', [b], { start: 0, end: 2 }), g.i64([qH / kvH, -1]), g.op('Shape', [b], { start: 3, end: 4 })], 0)]));
''')
open(sys.argv[1], 'w').write(src)
