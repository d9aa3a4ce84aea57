/**
 * Expression activations: a small language parsed once, differentiated symbolically, and
 * compiled to a register bytecode (native/ops/expr.def) that native code runs as one fused loop
 * for the forward and one for the backward. The AST is kept so that a CUDA backend can print it
 * as C for NVRTC and the JIT can fuse it after a convolution.
 *
 * Grammar: ternary (c ? a : b), comparisons (< <= > >= == !=), + -, * /, unary -, power (^ or **,
 * right-assoc), calls exp log tanh sigmoid erf softplus abs sign sqrt log1p expm1 min max pow
 * select(c, a, b), numbers, `x`, parameter names and the constants pi and e.
 */
import { ValueError } from '../errors';
import { info } from '../native';

export class ExprParseError extends ValueError {
  constructor(
    message: string,
    readonly position: number,
    readonly source: string,
  ) {
    super(`${message} at position ${position}\n  ${source}\n  ${' '.repeat(position)}^`);
  }
}

export type Node =
  | { k: 'num'; v: number }
  | { k: 'x' }
  | { k: 'param'; name: string }
  | { k: 'op'; op: string; args: Node[] };

const FUNCS: Record<string, number> = {
  exp: 1, log: 1, tanh: 1, sigmoid: 1, erf: 1, softplus: 1, abs: 1, sign: 1, sqrt: 1, log1p: 1, expm1: 1,
  min: 2, max: 2, pow: 2, select: 3,
};

interface Tok {
  t: 'num' | 'id' | 'op' | 'end';
  v: string;
  pos: number;
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const m = /^(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (m) {
      out.push({ t: 'num', v: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['<=', '>=', '==', '!=', '**'].includes(two)) {
      out.push({ t: 'op', v: two, pos: i });
      i += 2;
      continue;
    }
    if ('+-*/^()<>?:,'.includes(c)) {
      out.push({ t: 'op', v: c, pos: i });
      i++;
      continue;
    }
    throw new ExprParseError(`unexpected character '${c}'`, i, src);
  }
  out.push({ t: 'end', v: '', pos: src.length });
  return out;
}

const op = (o: string, ...args: Node[]): Node => ({ k: 'op', op: o, args });
const num = (v: number): Node => ({ k: 'num', v });

/** Parses an expression over `x` and the given parameter names. */
export function parse(src: string, params: readonly string[]): Node {
  if (typeof src !== 'string' || !src.trim()) throw new ExprParseError('empty expression', 0, String(src));
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok => toks[p];
  const eat = (v: string): Tok => {
    const t = toks[p];
    if (t.v !== v || t.t === 'num') throw new ExprParseError(t.t === 'end' ? `expected '${v}' but the expression ended` : `expected '${v}' but found '${t.v}'`, t.pos, src);
    p++;
    return t;
  };
  const ternary = (): Node => {
    const c = compare();
    if (peek().v === '?' && peek().t === 'op') {
      p++;
      const a = ternary();
      eat(':');
      const b = ternary();
      return op('select', c, a, b);
    }
    return c;
  };
  const CMP: Record<string, string> = { '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge', '==': 'eq', '!=': 'ne' };
  const compare = (): Node => {
    let l = additive();
    while (peek().t === 'op' && CMP[peek().v]) {
      const o = CMP[toks[p++].v];
      l = op(o, l, additive());
    }
    return l;
  };
  const additive = (): Node => {
    let l = term();
    while (peek().t === 'op' && (peek().v === '+' || peek().v === '-')) {
      const o = toks[p++].v === '+' ? 'add' : 'sub';
      l = op(o, l, term());
    }
    return l;
  };
  const term = (): Node => {
    let l = unary();
    while (peek().t === 'op' && (peek().v === '*' || peek().v === '/')) {
      const o = toks[p++].v === '*' ? 'mul' : 'div';
      l = op(o, l, unary());
    }
    return l;
  };
  const unary = (): Node => {
    if (peek().t === 'op' && peek().v === '-') {
      p++;
      return op('neg', unary());
    }
    if (peek().t === 'op' && peek().v === '+') {
      p++;
      return unary();
    }
    return power();
  };
  const power = (): Node => {
    const base = atom();
    if (peek().t === 'op' && (peek().v === '^' || peek().v === '**')) {
      p++;
      return op('pow', base, unary());
    }
    return base;
  };
  const atom = (): Node => {
    const t = peek();
    if (t.t === 'num') {
      p++;
      return num(Number(t.v));
    }
    if (t.t === 'op' && t.v === '(') {
      p++;
      const e = ternary();
      eat(')');
      return e;
    }
    if (t.t === 'id') {
      p++;
      if (peek().t === 'op' && peek().v === '(') {
        const arity = FUNCS[t.v];
        if (arity === undefined) throw new ExprParseError(`unknown function '${t.v}'; known: ${Object.keys(FUNCS).join(', ')}`, t.pos, src);
        p++;
        const args: Node[] = [];
        if (!(peek().t === 'op' && peek().v === ')')) {
          args.push(ternary());
          while (peek().t === 'op' && peek().v === ',') {
            p++;
            args.push(ternary());
          }
        }
        eat(')');
        if (args.length !== arity) throw new ExprParseError(`${t.v} takes ${arity} argument${arity > 1 ? 's' : ''}, got ${args.length}`, t.pos, src);
        return op(t.v, ...args);
      }
      if (t.v === 'x') return { k: 'x' };
      if (t.v === 'pi') return num(Math.PI);
      if (t.v === 'e') return num(Math.E);
      if (params.includes(t.v)) return { k: 'param', name: t.v };
      throw new ExprParseError(`unknown name '${t.v}' (use x, a parameter${params.length ? ` (${params.join(', ')})` : ''}, pi or e)`, t.pos, src);
    }
    throw new ExprParseError(t.t === 'end' ? 'unexpected end of expression' : `unexpected '${t.v}'`, t.pos, src);
  };
  const e = ternary();
  if (peek().t !== 'end') throw new ExprParseError(`unexpected '${peek().v}'`, peek().pos, src);
  return e;
}

// ---- symbolic derivative (with light simplification) ----------------------------------------

const isNum = (n: Node, v?: number): boolean => n.k === 'num' && (v === undefined || n.v === v);
const COMPARISONS = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);

function mk(o: string, ...a: Node[]): Node {
  if (a.every((n) => n.k === 'num')) {
    const v = evalOp(o, a.map((n) => (n as { v: number }).v));
    if (Number.isFinite(v)) return num(v);
  }
  switch (o) {
    case 'add':
      if (isNum(a[0], 0)) return a[1];
      if (isNum(a[1], 0)) return a[0];
      break;
    case 'sub':
      if (isNum(a[1], 0)) return a[0];
      if (isNum(a[0], 0)) return mk('neg', a[1]);
      break;
    case 'mul':
      if (isNum(a[0], 0) || isNum(a[1], 0)) return num(0);
      if (isNum(a[0], 1)) return a[1];
      if (isNum(a[1], 1)) return a[0];
      break;
    case 'div':
      if (isNum(a[0], 0)) return num(0);
      if (isNum(a[1], 1)) return a[0];
      break;
    case 'neg':
      if (a[0].k === 'op' && a[0].op === 'neg') return a[0].args[0];
      break;
    case 'select':
      if (isNum(a[1], 0) && isNum(a[2], 0)) return num(0);
      break;
  }
  return op(o, ...a);
}

/** d node / dx. */
export function derivative(n: Node): Node {
  switch (n.k) {
    case 'num':
    case 'param':
      return num(0);
    case 'x':
      return num(1);
  }
  const [a, b, c] = n.args;
  const da = a ? derivative(a) : num(0);
  const db = b ? derivative(b) : num(0);
  switch (n.op) {
    case 'add': return mk('add', da, db);
    case 'sub': return mk('sub', da, db);
    case 'mul': return mk('add', mk('mul', da, b), mk('mul', a, db));
    case 'div': return mk('div', mk('sub', mk('mul', da, b), mk('mul', a, db)), mk('mul', b, b));
    case 'neg': return mk('neg', da);
    case 'pow':
      if (isNum(db, 0)) return mk('mul', mk('mul', b, mk('pow', a, mk('sub', b, num(1)))), da);
      return mk('mul', n, mk('add', mk('mul', db, mk('log', a)), mk('div', mk('mul', b, da), a)));
    case 'exp': return mk('mul', n, da);
    case 'log': return mk('div', da, a);
    case 'tanh': return mk('mul', mk('sub', num(1), mk('mul', n, n)), da);
    case 'sigmoid': return mk('mul', mk('mul', n, mk('sub', num(1), n)), da);
    case 'erf': return mk('mul', mk('mul', num(2 / Math.sqrt(Math.PI)), mk('exp', mk('neg', mk('mul', a, a)))), da);
    case 'softplus': return mk('mul', mk('sigmoid', a), da);
    case 'abs': return mk('mul', mk('sign', a), da);
    case 'sign': return num(0);
    case 'sqrt': return mk('div', da, mk('mul', num(2), n));
    case 'log1p': return mk('div', da, mk('add', num(1), a));
    case 'expm1': return mk('mul', mk('exp', a), da);
    case 'min': return mk('select', mk('le', a, b), da, db);
    case 'max': return mk('select', mk('ge', a, b), da, db);
    case 'select': return mk('select', a, db, derivative(c));
    default:
      if (COMPARISONS.has(n.op)) return num(0);
      throw new ValueError(`expression: no derivative rule for ${n.op}`);
  }
}

function evalOp(o: string, v: number[]): number {
  const [a, b, c] = v;
  switch (o) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'neg': return -a;
    case 'pow': return Math.pow(a, b);
    case 'exp': return Math.exp(a);
    case 'log': return Math.log(a);
    case 'tanh': return Math.tanh(a);
    case 'sigmoid': return 1 / (1 + Math.exp(-a));
    case 'softplus': return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
    case 'abs': return Math.abs(a);
    case 'sign': return Math.sign(a);
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    case 'sqrt': return Math.sqrt(a);
    case 'log1p': return Math.log1p(a);
    case 'expm1': return Math.expm1(a);
    case 'lt': return +(a < b);
    case 'le': return +(a <= b);
    case 'gt': return +(a > b);
    case 'ge': return +(a >= b);
    case 'eq': return +(a === b);
    case 'ne': return +(a !== b);
    case 'select': return a !== 0 ? b : c;
    default: return NaN; // erf: left to the kernel
  }
}

/**
 * Replaces parameters by their values and folds the subtrees that became constant (in double,
 * where the result is finite). No algebraic identities (0 * f -> 0, 1 * f -> f): a parameter's
 * value never changes the tree, so the CPU program and the CUDA kernels (expr_cuda.ts, which take
 * parameters as arguments) compute the same thing, NaN and infinities included.
 */
export function bind(n: Node, params: Record<string, number>): Node {
  if (n.k === 'param') {
    const v = params[n.name];
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`expression: parameter '${n.name}' needs a numeric value`);
    return num(v);
  }
  if (n.k !== 'op') return n;
  const args = n.args.map((a) => bind(a, params));
  if (args.length && args.every((a) => a.k === 'num')) {
    const v = evalOp(n.op, args.map((a) => (a as { v: number }).v));
    if (Number.isFinite(v)) return num(v);
  }
  return op(n.op, ...args);
}

export function toString(n: Node): string {
  switch (n.k) {
    case 'num': return String(n.v);
    case 'x': return 'x';
    case 'param': return n.name;
    case 'op': return `${n.op}(${n.args.map(toString).join(', ')})`;
  }
}

// ---- bytecode ---------------------------------------------------------------------------------

const OPCODE: Record<string, number> = Object.fromEntries(info.exprOps.map((n: string, i: number) => [n, i]));

/**
 * Compiles a (parameter-free) expression to [nregs, out, ninstr, (opcode, dst, a, b, c)*].
 * Register 0 holds x, register 1 the upstream gradient (backward programs). Identical
 * subexpressions share a register.
 */
export function compile(n: Node): Float64Array {
  const code: number[] = [];
  const memo = new Map<string, number>();
  let nregs = 2;
  const emit = (node: Node): number => {
    if (node.k === 'x') return 0;
    if (node.k === 'param') throw new ValueError(`expression: unbound parameter '${node.name}'`);
    const key = toString(node);
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: number;
    if (node.k === 'num') {
      r = nregs++;
      code.push(OPCODE.const, r, node.v, 0, 0);
    } else if (node.k === 'op' && node.op === 'grad') {
      return 1;
    } else {
      const args = node.args.map(emit);
      r = nregs++;
      const opc = OPCODE[node.op];
      if (opc === undefined) throw new ValueError(`expression: no kernel opcode for ${node.op}`);
      code.push(opc, r, args[0] ?? 0, args[1] ?? 0, args[2] ?? 0);
    }
    memo.set(key, r);
    return r;
  };
  const out = emit(n);
  return Float64Array.from([nregs, out, code.length / 5, ...code]);
}

/** The backward program's expression: upstream gradient times d expr / dx. */
export function backwardExpr(n: Node): Node {
  return mk('mul', op('grad'), derivative(n));
}
