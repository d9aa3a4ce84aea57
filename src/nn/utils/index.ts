/**
 * torch.nn.utils: gradient clipping, parameter/vector conversion, L1/L2 penalties and pruning
 * (`nn.utils.prune`).
 */
export { clipGradNorm_, clipGradValue_, l1Penalty, l2Penalty } from './clip_grad';
export type { Params } from './clip_grad';
export { parametersToVector, vectorToParameters } from './convert_parameters';
import * as prune from './prune';
export { prune };
export type { PruneAmount, SparsityReport, SparsityRow, GlobalPruningMethod } from './prune';
