/**
 * The TypeScript reference backend: simple, complete and correct; every other backend is checked against it. Its
 * kernels are the functions its files export under the contract's names; the type below fails to compile when one
 * is missing or has another signature.
 */
import type { Backend, Kernels } from '../../backend.js';
import * as conv from './conv.js';
import * as elementwise from './elementwise.js';
import * as matmul from './matmul.js';
import * as movement from './movement.js';
import * as pool from './pool.js';
import * as reduce from './reduce.js';
import * as training from './train_kernels.js';

const kernels: Kernels = { ...elementwise, ...training, ...reduce, ...movement, ...matmul, ...conv, ...pool };

export function createTsBackend(): Backend {
  return { name: 'ts', ...kernels };
}
