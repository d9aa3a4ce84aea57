// Node 20 has no Symbol.dispose yet; `using` (TS 5.2+) and Tensor[Symbol.dispose] need it.
const S = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
if (!S.dispose) Object.defineProperty(Symbol, 'dispose', { value: Symbol.for('Symbol.dispose') });
if (!S.asyncDispose) Object.defineProperty(Symbol, 'asyncDispose', { value: Symbol.for('Symbol.asyncDispose') });
export {};
