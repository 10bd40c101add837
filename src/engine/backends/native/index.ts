/**
 * The native backend: the same kernel contract, implemented by the C++ addon in native/ (built by node-gyp at
 * install). Kernels read the Float32Arrays in place and write into outputs allocated here, so nothing is copied
 * across the JS/C++ boundary. The addon picks AVX-512, AVX2 or portable code at run time and runs a thread pool
 * (all cores by default; CONVLAB_THREADS or setThreads to change).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type Backend, KERNELS, kernelNames } from '../../backend.js';
import { allocRaw } from '../../memory.js';

/** The addon: one binding per kernel (outputs first, then the kernel's arguments), and its settings. */
interface Addon {
  readonly [kernel: string]: unknown;
  setThreads(n: number): void;
  setConvMode(mode: number): void;
  getThreads(): number;
  isa(): string;
}

/** The built addon; CONVLAB_ADDON names another build (npm run test:asan uses a sanitizer build). */
export const ADDON_PATH =
  process.env.CONVLAB_ADDON || fileURLToPath(new URL('../../../../../native/build/Release/convlab_native.node', import.meta.url));

let addon: Addon | null | undefined;
let loadError = '';

/** The addon, or null with the reason in nativeLoadError() when it is not built or cannot load here. */
export function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  if (!existsSync(ADDON_PATH)) {
    loadError = 'the native addon is not built (npm install builds it; it needs a C++17 compiler)';
    addon = null;
    return addon;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (e) {
    loadError = `the native addon failed to load: ${(e as Error).message.split('\n')[0]}`;
    addon = null;
  }
  return addon;
}

export function nativeLoadError(): string {
  return loadError;
}

type Binding = (...args: unknown[]) => void;
type Sizes = number | readonly (number | null)[] | null;

/**
 * A kernel of the contract on the addon: the outputs the contract sizes for these arguments come from the buffer
 * pool and go to the binding first, followed by the arguments as they are.
 */
function wrap(binding: Binding, outputs: (...args: unknown[]) => Sizes): (...args: unknown[]) => unknown {
  return (...args) => {
    const sizes = outputs(...args);
    if (sizes === null) return binding(...args);
    if (typeof sizes === 'number') {
      const out = allocRaw(sizes);
      binding(out, ...args);
      return out;
    }
    const outs = sizes.map((n) => (n === null ? null : allocRaw(n)));
    binding(...outs, ...args);
    return outs;
  };
}

export function createNativeBackend(): Backend {
  const lib = loadAddon();
  if (!lib) throw new Error(`native backend unavailable: ${loadError}`);
  const kernels: Record<string, unknown> = {};
  for (const name of kernelNames) {
    const binding = lib[name];
    if (typeof binding !== 'function') throw new Error(`the native addon has no kernel '${name}': rebuild it (npm run build:native)`);
    kernels[name] = wrap(binding as Binding, KERNELS[name].outputs as (...args: unknown[]) => Sizes);
  }
  return { name: 'native', ...kernels } as Backend;
}

/** Threads the native kernels use (1 when the addon is not loaded: the TypeScript backend is single-threaded). */
export function getThreads(): number {
  return loadAddon()?.getThreads() ?? 1;
}

export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads must be a positive integer, got ${n}`);
  const lib = loadAddon();
  if (!lib) throw new Error(`cannot set threads: ${loadError}`);
  lib.setThreads(n);
}

/**
 * How the native backend computes convolutions: 'auto' picks by shape, 'gemm' always uses im2col + GEMM,
 * 'direct' uses the direct AVX-512 kernels wherever the CPU has them, and 'winograd' uses Winograd F(2×2, 3×3)
 * for every 3×3 stride-1 convolution with ≥ 64 channels each way. For conformance tests and benchmarks.
 */
export function setConvAlgorithm(mode: 'auto' | 'gemm' | 'direct' | 'winograd'): void {
  const lib = loadAddon();
  if (!lib) throw new Error(`cannot set the convolution algorithm: ${loadError}`);
  lib.setConvMode(['auto', 'gemm', 'direct', 'winograd'].indexOf(mode));
}

/** The instruction set the native GEMM uses: avx512, avx2 or portable. */
export function nativeIsa(): string | null {
  return loadAddon()?.isa() ?? null;
}
