/**
 * Weight layouts between convlab (Keras': convolution kernels HWIO, dense kernels (in, out)) and PyTorch or ONNX
 * (OIHW, (out, in)). Each function takes the kernel's shape in convlab's layout.
 */

/** Convolution kernel [kh, kw, cin, cout] to or from [cout, cin, kh, kw]. */
export function convKernel(data: Float32Array, [kh, kw, cin, cout]: readonly number[], direction: 'to OIHW' | 'from OIHW'): Float32Array {
  const out = new Float32Array(data.length);
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) {
          const hwio = ((y * kw + x) * cin + c) * cout + o;
          const oihw = ((o * cin + c) * kh + y) * kw + x;
          if (direction === 'to OIHW') out[oihw] = data[hwio];
          else out[hwio] = data[oihw];
        }
  return out;
}

/** Dense kernel [in, out] to or from [out, in]: a transpose either way. */
export function denseKernel(
  data: Float32Array,
  [inputs, units]: readonly number[],
  direction: 'to (out, in)' | 'from (out, in)',
): Float32Array {
  const [rows, cols] = direction === 'to (out, in)' ? [inputs, units] : [units, inputs];
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
