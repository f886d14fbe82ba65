"""Writes the .pt fixtures in test/fixtures/pt/ with PyTorch's own serializer (run once; the files are committed).

    python3 scripts/make-pt-fixture.py            # writes the fixtures and expected.json
    python3 scripts/make-pt-fixture.py --check F  # torch.load(F, weights_only=True) and print what it holds
    python3 scripts/make-pt-fixture.py --verify-ours  # torch.load of ours_formal.pt (written by our writer) vs the fixture

Made with Debian's python3-torch (1.13). Values other than the reference vector are small integers / 8, so every dtype holds
them exactly and the test can compare them exactly.
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pt')


def values(n, seed):
    return [((i * 37 + seed * 11) % 29 - 14) / 8 for i in range(n)]


def read_safetensors(path, name):
    with open(path, 'rb') as f:
        raw = f.read()
    n = struct.unpack('<Q', raw[:8])[0]
    info = json.loads(raw[8:8 + n])[name]
    assert info['dtype'] == 'F32'
    a, b = info['data_offsets']
    return torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(info['shape'])


class RunsACommand:
    def __reduce__(self):
        return (os.system, ('echo this pickle runs a command when torch.load trusts it',))


def main():
    os.makedirs(HERE, exist_ok=True)
    expected = {'torch_version': torch.__version__}
    # persona_vectors' layout: one float32 [L+1, H] tensor indexed like hidden_states, here the
    # stylist's formal vector (L = 6, H = 256; rows 1..6 = the PyTorch reference's
    # formal.response_mean, row 0 = a stand-in for the embedding-output difference their files carry)
    formal = read_safetensors(os.path.join(HERE, '..', 'reference', 'stylist-vectors.safetensors'), 'formal.response_mean')
    pv = torch.cat([torch.tensor(values(256, 1), dtype=torch.float32)[None], formal], 0)
    torch.save(pv, os.path.join(HERE, 'formal_response_avg_diff.pt'))
    expected['formal_response_avg_diff.pt'] = {'shape': [7, 256], 'dtype': 'float32', 'data': pv.flatten().tolist()}
    # a dict of tensors in the other dtypes, one a strided view sharing its storage
    base = torch.tensor(values(24, 2), dtype=torch.float32).reshape(4, 6)
    d = {
        'half': torch.tensor(values(10, 3), dtype=torch.float16),
        'bf16': torch.tensor(values(6, 4), dtype=torch.bfloat16).reshape(2, 3),
        'f64': torch.tensor(values(5, 5), dtype=torch.float64),
        'base': base,
        'transposed': base.t(),
        'row2': base[2],
    }
    torch.save(d, os.path.join(HERE, 'mixed_dict.pt'))
    expected['mixed_dict.pt'] = {k: {'shape': list(v.shape), 'dtype': str(v.dtype).replace('torch.', ''), 'data': v.float().flatten().tolist()} for k, v in d.items()}
    # a list of per-layer vectors
    lst = [torch.tensor(values(8, 6 + i), dtype=torch.float32) for i in range(3)]
    torch.save(lst, os.path.join(HERE, 'layer_list.pt'))
    expected['layer_list.pt'] = [{'shape': [8], 'dtype': 'float32', 'data': t.tolist()} for t in lst]
    # what an attacker's file looks like: torch.save of an object whose unpickling calls os.system
    # (harmless command; torch.load(weights_only=False) would run it, our reader must refuse it)
    torch.save({'vector': pv, 'payload': RunsACommand()}, os.path.join(HERE, 'runs_a_command.pt'))
    with open(os.path.join(HERE, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')


def check(path):
    v = torch.load(path, weights_only=True)
    def show(x):
        if isinstance(x, torch.Tensor):
            return {'shape': list(x.shape), 'dtype': str(x.dtype).replace('torch.', ''), 'data': x.float().flatten().tolist()}
        if isinstance(x, dict):
            return {str(k): show(y) for k, y in x.items()}
        if isinstance(x, (list, tuple)):
            return [show(y) for y in x]
        return x
    print(json.dumps(show(v)))


def verify_ours():
    ours = torch.load(os.path.join(HERE, 'ours_formal.pt'), weights_only=True)
    theirs = torch.load(os.path.join(HERE, 'formal_response_avg_diff.pt'), weights_only=True)
    print('torch', torch.__version__)
    print('type', type(ours).__name__, 'dtype', ours.dtype, 'shape', list(ours.shape))
    print('rows 1.. equal the fixture exactly:', torch.equal(ours[1:], theirs[1:]))
    print('row 0 all zero:', bool((ours[0] == 0).all()))
    print('ours[3][:4] =', ours[3][:4].tolist())


if __name__ == '__main__':
    if len(sys.argv) == 2 and sys.argv[1] == '--verify-ours':
        verify_ours()
    elif len(sys.argv) == 3 and sys.argv[1] == '--check':
        check(sys.argv[2])
    else:
        main()
