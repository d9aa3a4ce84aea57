/**
 * ignis.data (torch.utils.data + torchvision's datasets and transforms): Dataset, TensorDataset,
 * Subset, randomSplit, DataLoader, defaultCollate, transforms, MNIST, FashionMNIST, CIFAR10.
 *
 * @example
 * const train = new ignis.data.MNIST({ train: true });
 * const loader = new ignis.data.DataLoader(train, { batchSize: 64, shuffle: true, generator: new ignis.Generator(0) });
 * for (const [x, y] of loader) { ... }   // x float32 [64, 1, 28, 28], y int64 [64]
 */
export { Dataset, TensorDataset, Subset, randomSplit, randperm } from './dataset';
export type { Collated } from './dataset';
export { DataLoader, defaultCollate } from './dataloader';
export type { DataLoaderOptions } from './dataloader';
export { MNIST, FashionMNIST, CIFAR10, ImageBytesDataset, mnistDataPackageDir, mnistPackage } from './vision';
export type { VisionOptions, MNISTOptions, CIFAR10Options, ImageSample } from './vision';
export { DataFormatError, DataNotFoundError, parseIdx, readIdx, parseCifarBatch, CIFAR_RECORD } from './formats';
export type { IdxArray } from './formats';
import * as transforms from './transforms';
export { transforms };
export type { Transform, ImageLike, RandomCropOptions } from './transforms';
