export { ACTIVATIONS } from './table';
export type { ActivationRow, ParamSpec } from './table';
export { info, names as list, unregisterCustom as undefine } from './registry';
export { defineActivation } from './define';
export type { DefineActivationOptions, ExprActivation } from './define';
export { parse as parseExpr, derivative as exprDerivative, ExprParseError } from './expr';
import './methods';
