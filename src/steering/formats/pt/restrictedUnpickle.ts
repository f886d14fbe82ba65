/**
 * A restricted pickle interpreter for the `data.pkl` of a PyTorch zip archive. It implements the
 * opcodes Python's pickler emits for plain containers (protocols 2–5) and exactly four kinds of
 * global: `torch._utils._rebuild_tensor_v2`, the float storage classes
 * (`torch.FloatStorage`/`HalfStorage`/`BFloat16Storage`/`DoubleStorage`) and
 * `collections.OrderedDict`. Nothing is ever called or imported: a "call" (REDUCE) of an allowed
 * global builds a plain value here, and any other opcode or global (`os.system`, `builtins.eval`,
 * BUILD, NEWOBJ, INST, …) stops the read with an error naming it. Every length is checked against
 * the bytes left, so a damaged pickle fails cleanly instead of reading past its end.
 */
import { TorchPtError } from './TorchPtError.js';

/** The float dtypes a storage may hold, with their element sizes. */
export const STORAGE_DTYPES = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
} as const;
export type PtDtype = (typeof STORAGE_DTYPES)[keyof typeof STORAGE_DTYPES]['dtype'];

/** A storage named by a persistent id: its bytes are the archive's `data/<key>` record. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: PtDtype,
    readonly elementBytes: number,
    readonly numel: number,
  ) {}
}

/** What `_rebuild_tensor_v2(storage, offset, size, stride, …)` describes; no data read yet. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** A Python tuple (kept apart from lists while unpickling; both become arrays afterwards). */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export type PickleKey = string | number | boolean | null;
export type PickleValue = null | boolean | number | string | PyTuple | PickleValue[] | Map<PickleKey, PickleValue> | TensorRef | StorageRef | PyGlobal;

const ALLOWED_GLOBALS = new Set(['torch._utils._rebuild_tensor_v2', 'collections.OrderedDict', ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`)]);

const MARK = Symbol('mark');
const MAX_STACK = 100_000;
const MAX_DIMS = 16;

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK',
  0x2e: 'STOP',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4c: 'LONG',
  0x4d: 'BININT2',
  0x4e: 'NONE',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x58: 'BINUNICODE',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x7d: 'EMPTY_DICT',
  0x65: 'APPENDS',
  0x67: 'GET',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6a: 'LONG_BINGET',
  0x6c: 'LIST',
  0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x29: 'EMPTY_TUPLE',
  0x75: 'SETITEMS',
  0x47: 'BINFLOAT',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/**
 * Interprets a pickle under the allow-list above and returns its value, with tensors as
 * `TensorRef`s (their storages still unread). `where` names the file in errors.
 *
 * @example
 * const v = restrictedUnpickle(pkl, 'evil.pt/data.pkl');
 * if (v instanceof TensorRef) v.size; // [37, 2560]
 */
export function restrictedUnpickle(pkl: Uint8Array, where: string): PickleValue {
  const view = new DataView(pkl.buffer, pkl.byteOffset, pkl.byteLength);
  const stack: (PickleValue | typeof MARK)[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  const storages = new Map<string, StorageRef>();
  let p = 0;

  const fail = (what: string, at = p): never => {
    throw new TorchPtError(
      `${where}: refused at byte ${at}: ${what}. Only plain float tensors (and lists/dicts of them) are read from .pt files; nothing in them is executed.`,
    );
  };
  const need = (n: number): void => {
    if (n < 0 || p + n > pkl.length) fail(`the pickle ends in the middle of an opcode (it is truncated or damaged)`);
  };
  const u8 = (): number => {
    need(1);
    return pkl[p++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(p, true);
    p += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(pkl.length)) fail('a length larger than the pickle itself');
    return Number(v);
  };
  const utf8 = (n: number): string => {
    need(n);
    const s = Buffer.from(pkl.subarray(p, p + n)).toString('utf8');
    p += n;
    return s;
  };
  const line = (): string => {
    const end = pkl.indexOf(0x0a, p);
    if (end < 0 || end - p > 256) fail('a GLOBAL name without its line end');
    const s = Buffer.from(pkl.subarray(p, end)).toString('latin1');
    p = end + 1;
    return s;
  };
  const push = (v: PickleValue | typeof MARK): void => {
    if (stack.length >= MAX_STACK) fail(`more than ${MAX_STACK} values on the stack`);
    stack.push(v);
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined) fail('an opcode needs a value but the stack is empty');
    if (v === MARK) fail('an opcode found a MARK where it needed a value');
    return v as PickleValue;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('an opcode needs a value but the stack is empty');
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('an opcode needs a MARK but none is open');
    const items = stack.splice(m!);
    items.shift(); // the MARK itself
    if (items.some((x) => x === MARK)) fail('a MARK inside a marked group');
    return items as PickleValue[];
  };
  const memoGet = (i: number): PickleValue => {
    if (!memo.has(i)) fail(`memo entry ${i} is read before it is written`);
    return memo.get(i)!;
  };
  const global = (module: string, name: string, at: number): PyGlobal => {
    const q = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(q)) fail(`global ${JSON.stringify(q)} is not allowed (only ${[...ALLOWED_GLOBALS].join(', ')})`, at);
    return new PyGlobal(module, name);
  };
  const setItems = (target: PickleValue, items: PickleValue[], at: number): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict', at);
    if (items.length % 2) fail('SETITEMS with an odd number of values', at);
    for (let i = 0; i < items.length; i += 2) (target as Map<PickleKey, PickleValue>).set(asKey(items[i], at), items[i + 1]);
  };
  const asKey = (k: PickleValue, at: number): PickleKey => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'boolean') return k;
    return fail('a dict key that is not a string or a number', at);
  };
  const int = (v: PickleValue, what: string, at: number, min = 0): number => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${what} is not an integer ≥ ${min}`, at);
    return v as number;
  };
  const intTuple = (v: PickleValue, what: string, at: number): number[] => {
    if (!(v instanceof PyTuple)) return fail(`${what} is not a tuple`, at);
    if (v.items.length > MAX_DIMS) fail(`${what} has more than ${MAX_DIMS} dimensions`, at);
    return v.items.map((x) => int(x, what, at));
  };

  const reduce = (fn: PickleValue, args: PickleValue, at: number): PickleValue => {
    if (!(fn instanceof PyGlobal)) return fail('REDUCE of something that is not an allowed global', at);
    if (!(args instanceof PyTuple)) return fail(`${fn.qualified} called with arguments that are not a tuple`, at);
    const a = args.items;
    if (fn.qualified === 'collections.OrderedDict') {
      const d = new Map<PickleKey, PickleValue>();
      if (a.length === 0) return d;
      if (a.length === 1 && Array.isArray(a[0])) {
        for (const pair of a[0]) {
          if (!(pair instanceof PyTuple) || pair.items.length !== 2) fail('OrderedDict built from something other than (key, value) pairs', at);
          d.set(asKey((pair as PyTuple).items[0], at), (pair as PyTuple).items[1]);
        }
        return d;
      }
      return fail('OrderedDict called with unexpected arguments', at);
    }
    if (fn.qualified === 'torch._utils._rebuild_tensor_v2') {
      if (a.length !== 6 && a.length !== 7) fail(`_rebuild_tensor_v2 called with ${a.length} arguments (6 or 7 expected)`, at);
      const [storage, offset, size, stride, requiresGrad, hooks] = a;
      if (!(storage instanceof StorageRef)) fail('_rebuild_tensor_v2 called without a storage', at);
      const sz = intTuple(size, 'the tensor size', at);
      const st = intTuple(stride, 'the tensor stride', at);
      if (sz.length !== st.length) fail(`the tensor size has ${sz.length} dimensions and its stride ${st.length}`, at);
      if (typeof requiresGrad !== 'boolean') fail('requires_grad is not a boolean', at);
      if (!(hooks instanceof Map) || hooks.size > 0) fail('the tensor carries backward hooks (code), which are not read', at);
      if (a.length === 7 && !(a[6] instanceof Map)) fail('the tensor metadata is not a dict', at);
      return new TensorRef(storage as StorageRef, int(offset, 'the storage offset', at), sz, st);
    }
    return fail(`${fn.qualified} cannot be called`, at); // a storage class: only valid in a persistent id
  };

  const persistentLoad = (pid: PickleValue, at: number): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      return fail("a persistent id other than ('storage', type, key, location, numel)", at);
    }
    const [, type, key, location, numel] = pid.items;
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) return fail('a storage of an unsupported type', at);
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return fail('a storage key that is not a plain name', at);
    if (typeof location !== 'string') return fail('a storage location that is not a string', at);
    const n = int(numel, 'the storage size', at);
    const { dtype, bytes } = STORAGE_DTYPES[type.name as keyof typeof STORAGE_DTYPES];
    const seen = storages.get(key);
    if (seen) {
      if (seen.dtype !== dtype || seen.numel !== n) fail(`storage ${key} is named twice with different types or sizes`, at);
      return seen;
    }
    const ref = new StorageRef(key, dtype, bytes, n);
    storages.set(key, ref);
    return ref;
  };

  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('a pickle protocol above 5', at);
        break;
      case 0x95: // FRAME: the frame's bytes are simply the opcodes that follow
        u64();
        break;
      case 0x2e: {
        // STOP
        if (stack.length !== 1 || marks.length) fail('STOP with a stack that does not hold exactly one value', at);
        return pop();
      }
      case 0x28: // MARK
        marks.push(stack.length);
        push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) {
          stack.pop();
          marks.pop();
        } else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e:
        push(null);
        break; // NONE
      case 0x88:
        push(true);
        break; // NEWTRUE
      case 0x89:
        push(false);
        break; // NEWFALSE
      case 0x4b:
        push(u8());
        break; // BININT1
      case 0x4d:
        push(u16());
        break; // BININT2
      case 0x4a: {
        // BININT
        need(4);
        push(view.getInt32(p, true));
        p += 4;
        break;
      }
      case 0x8a: {
        // LONG1
        const n = u8();
        if (n > 8) fail('an integer wider than 64 bits', at);
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(pkl[p + i]);
        if (n > 0 && pkl[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail('an integer beyond 2^53', at);
        push(Number(v));
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8);
        push(view.getFloat64(p, false));
        p += 8;
        break;
      }
      case 0x58:
        push(utf8(u32()));
        break; // BINUNICODE
      case 0x8c:
        push(utf8(u8()));
        break; // SHORT_BINUNICODE
      case 0x8d:
        push(utf8(u64()));
        break; // BINUNICODE8
      case 0x29:
        push(new PyTuple([]));
        break; // EMPTY_TUPLE
      case 0x85:
        push(new PyTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x74:
        push(new PyTuple(popMark()));
        break; // TUPLE
      case 0x5d:
        push([]);
        break; // EMPTY_LIST
      case 0x6c:
        push(popMark());
        break; // LIST
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) fail('APPEND to something that is not a list', at);
        (list as PickleValue[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('APPENDS to something that is not a list', at);
        for (const v of items) (list as PickleValue[]).push(v);
        break;
      }
      case 0x7d:
        push(new Map());
        break; // EMPTY_DICT
      case 0x64: {
        // DICT
        const d = new Map<PickleKey, PickleValue>();
        setItems(d, popMark(), at);
        push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v], at);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items, at);
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
        push(memoGet(u8()));
        break; // BINGET
      case 0x6a:
        push(memoGet(u32()));
        break; // LONG_BINGET
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        push(global(module, name, at));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with a name that is not a string', at);
        push(global(module as string, name as string, at));
        break;
      }
      case 0x51:
        push(persistentLoad(pop(), at));
        break; // BINPERSID
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        push(reduce(fn, args, at));
        break;
      }
      default:
        fail(`opcode ${OPCODE_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`} is not allowed`, at);
    }
  }
}
