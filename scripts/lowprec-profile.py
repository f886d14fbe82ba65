# Splits an onnxruntime profile (PERSONA_ORT_PROFILE) of decode steps by batch size: per-step time of
# MatMulNBits, the attention ops (scores against the cache, softmax, the context MatMuls) and the rest.
#   python3 scripts/lowprec-profile.py PROFILE.json
import json, sys, collections
ev = json.load(open(sys.argv[1]))
runs = [e for e in ev if e.get('cat') == 'Session' and e['name'] == 'model_run']
nodes = [e for e in ev if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time')]
ATT = {'FusedMatMul', 'MatMul', 'Softmax', 'Slice', 'Concat'}
def cat(e):
    op = e['args']['op_name']
    if op == 'MatMulNBits': return 'MatMulNBits'
    shp = list(e['args']['output_type_shape'][0].values())[0]
    if op in ATT and len(shp) >= 4: return 'attention'
    if op == 'Add' and len(shp) >= 4: return 'attention'
    return 'other'
nodes.sort(key=lambda e: e['ts'])
per = collections.defaultdict(lambda: collections.defaultdict(list))
ops = collections.defaultdict(lambda: collections.defaultdict(float))
j = 0
for r in runs:
    a, b = r['ts'], r['ts'] + r['dur']
    inside = [e for e in nodes if a <= e['ts'] <= b]
    if not inside: continue
    ids = [e for e in inside if e['args']['op_name'] == 'Gather'][0]['args']['input_type_shape'][1]['int64']
    B, T = ids
    if T != 1: continue
    sums = collections.defaultdict(float)
    for e in inside:
        sums[cat(e)] += e['dur']
        ops[B][e['args']['op_name'] + ('4d' if len(list(e['args']['output_type_shape'][0].values())[0]) == 4 else '')] += e['dur']
    sums['run'] = r['dur']
    for k, v in sums.items(): per[B][k].append(v)
for B, d in sorted(per.items()):
    n = len(d['run'])
    med = lambda x: sorted(x)[len(x) // 2] / 1000
    out = {k: round(med(v), 2) for k, v in d.items()}
    print(f'B={B} steps={n} ms/step (median):', out, ' shares:', {k: round(med(v) / med(d['run']), 2) for k, v in d.items() if k != 'run'})
    top = sorted(ops[B].items(), key=lambda kv: -kv[1])[:10]
    print('   top ops ms/step:', [(k, round(v / n / 1000, 2)) for k, v in top])
