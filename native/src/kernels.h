// The native kernels behind the Backend contract in src/engine/backend.ts (each file binds its own, see binding.h). Arrays are contiguous,
// row-major float32; shapes are vectors of dimensions. Outputs are written into caller-allocated arrays.
#pragma once
#include <cstdint>
#include <vector>

namespace convlab {

using Shape = std::vector<long>;

// Elementwise ops by the contract's names (UnaryOp, BinaryOp in src/engine/backend.ts); each enum lists them in the
// order of its names array, which the binding looks names up in.
enum class Unary { Neg, Exp, Log, Sqrt, Sin, Cos, Tanh, Sigmoid, Relu, Abs, Sign, Step, Erf };
inline const char* const kUnaryNames[] = {"neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "sign", "step", "erf"};
enum class Binary { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Greater, GreaterEqual, Equal };
inline const char* const kBinaryNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "greater", "greaterEqual", "equal"};

struct Conv2DAttrs {
  long sh, sw, dh, dw, pt, pb, pl, pr;
};
struct Pool2DAttrs {
  long ph, pw, sh, sw, pt, pb, pl, pr;
};

long size_of(const Shape& s);

void unary(Unary op, const float* x, float* y, long n);
void binary(Binary op, const float* a, const Shape& as, const float* b, const Shape& bs, float* out, const Shape& os);
// y = x + bias for positive values, slope·(x + bias) below: slope 0 is ReLU, 1 linear, anything else leaky ReLU.
// bias holds c values (or is null) repeated along the last axis.
void bias_activation(const float* x, long rows, long c, const float* bias, float slope, float* y);
// dx = dy where y > 0, slope·dy elsewhere; db (when not null) = Σ over rows of dx.
void bias_activation_grad(const float* dy, const float* y, long rows, long c, float slope, float* dx, float* db);
// Training-mode batch normalization over rows (every axis but the last, c channels); gamma/beta may be null.
void batch_norm(const float* x, long rows, long c, const float* gamma, const float* beta, float eps, float* y,
                float* mean, float* variance);
void batch_norm_grad(const float* dy, const float* x, long rows, long c, const float* mean, const float* variance,
                     const float* gamma, float eps, float* dx, float* dgamma, float* dbeta);
// Softmax cross-entropy over rows of c logits against target distributions t: loss per row and log-softmax.
void softmax_cross_entropy(const float* z, const float* t, long rows, long c, float* loss, float* logp);
void softmax_cross_entropy_grad(const float* dl, const float* logp, const float* t, long rows, long c, float* dz);
// Optimizer steps in place (Keras 3 formulas); v / vhat may be null (plain SGD, Adam without AMSGrad).
void sgd_update(float* p, const float* g, float* v, long n, double lr, double momentum, bool nesterov);
void adam_update(float* p, const float* g, float* m, float* v, float* vhat, long n, double alpha, double beta1, double beta2,
                 double eps);
// n draws of xoshiro128** from state (advanced in place): keep where u ≥ rate·2³², else 0.
void bernoulli_mask(uint32_t* state, long n, double rate, float keep, float* out);
void reduce(bool max, const float* x, const Shape& shape, const std::vector<long>& axes, float* out);
void permute(const float* x, const Shape& shape, const std::vector<long>& perm, float* out);
void broadcast_to(const float* x, const Shape& shape, const Shape& out_shape, float* out);
void slice(const float* x, const Shape& shape, const std::vector<long>& begin, const Shape& size, float* out);
void pad(const float* x, const Shape& shape, const std::vector<long>& pads, float* out);

// Bias and activation applied as the output is written: y = max(v, 0) + slope·min(v, 0) with v = conv + bias.
struct Epilogue {
  const float* bias = nullptr;  // cout values, or null
  float slope = 1.f;            // 0 ReLU, 1 linear, else leaky ReLU
  bool on = false;
};
void conv2d(const float* x, const Shape& xs, const float* w, const Shape& ws, const Conv2DAttrs& a, float* y, const Shape& ys,
            const Epilogue& epi = Epilogue());
void conv2d_backprop_input(const float* dy, const Shape& dys, const float* w, const Shape& ws, const Shape& xs,
                           const Conv2DAttrs& a, float* dx);
void conv2d_backprop_filter(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Shape& ws,
                            const Conv2DAttrs& a, float* dw);
// Both gradients (dx or dw may be null to skip one).
void conv2d_backprop(const float* x, const Shape& xs, const float* w, const Shape& ws, const float* dy, const Shape& dys,
                     const Conv2DAttrs& a, float* dx, float* dw);

// Direct (implicit-GEMM) convolution on AVX-512, for layers with few channels; conv2d* choose it by shape.
bool direct_conv_available();
void conv2d_direct(const float* x, const Shape& xs, const float* w, const Shape& ws, const Conv2DAttrs& a, float* y, const Shape& ys,
                   const Epilogue& epi = Epilogue());
void conv2d_backprop_input_direct(const float* dy, const Shape& dys, const float* w, const Shape& ws, const Shape& xs,
                                  const Conv2DAttrs& a, float* dx);
void conv2d_backprop_filter_direct(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Shape& ws,
                                   const Conv2DAttrs& a, float* dw);
// Winograd F(2×2, 3×3) for 3×3 stride-1 convolutions with at least 64 input and output channels.
bool winograd_eligible(const Shape& ws, const Conv2DAttrs& a);
long winograd_tiles(const Shape& ys);  // 2×2 output tiles of an output shape
void conv2d_winograd(const float* x, const Shape& xs, const float* w, const Shape& ws, const Conv2DAttrs& a, float* y,
                     const Shape& ys, const Epilogue& epi);
// 0: choose by shape; 1: always im2col + GEMM; 2: direct wherever it is available; 3: Winograd wherever it applies
// (for tests and benchmarks).
void set_conv_mode(int mode);
int get_conv_mode();

void max_pool2d(const float* x, const Shape& xs, const Pool2DAttrs& a, float* y, const Shape& ys);
void max_pool2d_backprop(const float* x, const Shape& xs, const float* dy, const Shape& dys, const Pool2DAttrs& a, float* dx);
void avg_pool2d(const float* x, const Shape& xs, const Pool2DAttrs& a, float* y, const Shape& ys);
void avg_pool2d_backprop(const float* dy, const Shape& dys, const Shape& xs, const Pool2DAttrs& a, float* dx);

}  // namespace convlab
