// Int8 LSTM inference: one fused kernel per layer, called from Ulmfit.NET through P/Invoke
// (src/Ulmfit/Modeling/Int8Lstm*.cs, src/Ulmfit/Engine/Int8LstmLibrary.cs). libtorch has no fused int8 LSTM, and an
// int8 product inside a per-step loop of libtorch ops loses more in the unfused gate arithmetic than it gains
// (docs/benchmarks.md), so the whole layer — input products, recurrent products, gates, cell update — runs here, on
// weights packed once.
//
// Numbers. Weights: per-output-row symmetric int8 (scale = max|row| / 127). Layer input x and hidden state h: per-row
// (one token of one document) symmetric int8 with a dynamic scale. (A fixed 1/127 for h, exact since |h| <= 1, would
// spare the per-worker copies below but cost 2 % relative error on an untrained encoder, whose h stay small.)
// Accumulators are int32 (at most 1152 · 127 · 127 per product, far below 2^31); gates, cell and outputs are float32.
//
// Paths, chosen at run time from CPUID (ulm_int8_lstm_paths); every path computes the same int32 sums from the same
// quantized bytes, and the same float epilogue in the same order, so they agree to float rounding:
// - AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes, so activations are stored as q + 128 and the sums are
//   corrected with 128 · (column sum of the weights). 6 batch rows × 64 columns of accumulators per micro-kernel call.
// - AVX2 (with FMA): vpmaddubsw also multiplies unsigned by signed bytes but adds pairs into int16 with saturation,
//   which q + 128 (up to 255 · 127 · 2) would overflow. So activations stay signed (q in [−127, 127]) and the sign moves
//   to the weights: |q| · (w · sign q) sums a pair to at most 2 · 127 · 127 = 32,258 < 32,767, exact; vpmaddwd with
//   ones widens to int32. 2 rows × 32 columns per pass (16 registers), two passes per 64-column block.
// - AVX-VNNI (VEX-encoded vpdpbusd on 256-bit registers, e.g. Intel CPUs with AVX2 but no AVX-512): the AVX2 path's
//   register blocking with VNNI's arithmetic — activations stored as q + 128, one vpdpbusd per 4 inputs × 8 columns
//   (AVX2 needs four instructions), and the sums corrected as on AVX-512.
// - scalar: plain C over the same layout, the reference the tests check the others against.
//
// Layout. Units are padded to a multiple of 16 (Hp) and grouped in blocks of 16; a block's 64 columns are the i, f, g, o
// gates (PyTorch's order) of its 16 units, so one block's accumulators hold everything the cell update of 16 units
// needs. Packed weights, per block j and group of 4 inputs k4: [j][k4][gate 0..3][unit 0..15][4 bytes], the operand
// layout of vpdpbusd (and, 32 bytes at a time, of vpmaddubsw + vpmaddwd). Padded units have zero weights and bias,
// so their h and c stay 0.
//
// Threads. Each of the caller's `threads` workers owns a range of unit blocks for the whole call: it computes the
// input products of its columns for a chunk of time steps, then each step's recurrent products and cell updates for
// its units. One spin barrier per step, after the cell updates: then every worker quantizes all of h_t into its own
// copy (the row scales need every worker's units; redundant work of batch × hidden per step, against batch × hidden ×
// 4·hidden multiply-adds), with h_t and the row maxima double-buffered so a worker may start the next step early.
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))   // the AVX-512 VNNI path
#define AVX2 __attribute__((target("avx2,fma")))
#define AVXVNNI __attribute__((target("avx2,fma,avxvnni")))                             // the AVX-VNNI (VEX) path
#define INLINE static inline __attribute__((always_inline))
#define MR 6            // VNNI: batch rows per micro-kernel call: 6 × 4 accumulators + 4 weight vectors + 1 broadcast <= 32 registers
#define MR_AVX2 2       // AVX2: 2 × 4 accumulators + weights, broadcasts, ones and a product <= 16 registers
#define MAX_THREADS 64
#define G_BUDGET_BYTES (16u << 20)  // bounds the float32 input-gate buffer (rows × 4·Hp) by chunking time: 16 MB
                                    // stays in cache better and under glibc's mmap threshold (64 MB ran 15-50 % slower)

typedef struct {
    int input, hidden;      // the layer's real sizes
    int in_pad, hid_pad;    // input padded to a multiple of 4, hidden to a multiple of 16
    int blocks;             // hid_pad / 16
    int8_t *w_ih, *w_hh;    // packed, see the layout above
    float *s_ih, *s_hh;     // per packed column: weight scale
    int32_t *c_ih, *c_hh;   // per packed column: 128 · column sum (the unsigned-offset correction)
    float *bias;            // per packed column: b_ih + b_hh
} int8_lstm;

enum { PATH_SCALAR = 0, PATH_AVX2 = 1, PATH_AVX512_VNNI = 2, PATH_AVX_VNNI = 3, PATH_COUNT = 4 };

// Bit p set when path p runs on this CPU (the scalar one always does).
int ulm_int8_lstm_paths(void)
{
    __builtin_cpu_init();
    int paths = 1 << PATH_SCALAR;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) paths |= 1 << PATH_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni")) paths |= 1 << PATH_AVX512_VNNI;
    if ((paths & (1 << PATH_AVX2)) && __builtin_cpu_supports("avxvnni")) paths |= 1 << PATH_AVX_VNNI;
    return paths;
}

// Packed column of gate g, unit u (0..hid_pad) → its row in PyTorch's (4·hidden, k) matrix, or -1 for a padded unit.
static int source_row(const int8_lstm *l, int g, int u) { return u < l->hidden ? g * l->hidden + u : -1; }

static void pack_matrix(const int8_lstm *l, const float *w, int k, int k_pad, int8_t *packed, float *scales, int32_t *corr)
{
    int k4n = k_pad / 4;
    for (int j = 0; j < l->blocks; j++)
        for (int g = 0; g < 4; g++)
            for (int u = 0; u < 16; u++) {
                int col = j * 64 + g * 16 + u, row = source_row(l, g, j * 16 + u);
                float amax = 0;
                if (row >= 0) for (int i = 0; i < k; i++) amax = fmaxf(amax, fabsf(w[(size_t)row * k + i]));
                float scale = amax > 0 ? amax / 127.0f : 1.0f;
                int32_t sum = 0;
                for (int k4 = 0; k4 < k4n; k4++)
                    for (int b = 0; b < 4; b++) {
                        int i = k4 * 4 + b;
                        int q = 0;
                        if (row >= 0 && i < k) {
                            q = (int)lrintf(w[(size_t)row * k + i] / scale);
                            q = q > 127 ? 127 : q < -127 ? -127 : q;
                        }
                        packed[(((size_t)j * k4n + k4) * 4 + g) * 64 + u * 4 + b] = (int8_t)q;
                        sum += q;
                    }
                scales[col] = scale;
                corr[col] = 128 * sum;
            }
}

void ulm_int8_lstm_free(void *handle)
{
    int8_lstm *l = handle;
    if (!l) return;
    free(l->w_ih); free(l->w_hh); free(l->s_ih); free(l->s_hh); free(l->c_ih); free(l->c_hh); free(l->bias);
    free(l);
}

// Quantizes one LSTM layer given in PyTorch's layout (w_ih: 4·hidden × input, w_hh: 4·hidden × hidden, biases:
// 4·hidden, row-major float32). Returns NULL when sizes are invalid or memory runs out.
void *ulm_int8_lstm_pack(const float *w_ih, const float *w_hh, const float *b_ih, const float *b_hh, int input, int hidden)
{
    if (input <= 0 || hidden <= 0 || !w_ih || !w_hh || !b_ih || !b_hh) return NULL;
    int8_lstm *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->input = input; l->hidden = hidden;
    l->in_pad = (input + 3) / 4 * 4;
    l->hid_pad = (hidden + 15) / 16 * 16;
    l->blocks = l->hid_pad / 16;
    size_t cols = (size_t)l->hid_pad * 4;
    l->w_ih = aligned_alloc(64, cols * l->in_pad);
    l->w_hh = aligned_alloc(64, cols * l->hid_pad);
    l->s_ih = malloc(cols * sizeof(float)); l->s_hh = malloc(cols * sizeof(float));
    l->c_ih = malloc(cols * sizeof(int32_t)); l->c_hh = malloc(cols * sizeof(int32_t));
    l->bias = malloc(cols * sizeof(float));
    if (!l->w_ih || !l->w_hh || !l->s_ih || !l->s_hh || !l->c_ih || !l->c_hh || !l->bias) { ulm_int8_lstm_free(l); return NULL; }
    pack_matrix(l, w_ih, input, l->in_pad, l->w_ih, l->s_ih, l->c_ih);
    pack_matrix(l, w_hh, hidden, l->hid_pad, l->w_hh, l->s_hh, l->c_hh);
    for (int j = 0; j < l->blocks; j++)
        for (int g = 0; g < 4; g++)
            for (int u = 0; u < 16; u++) {
                int row = source_row(l, g, j * 16 + u);
                l->bias[j * 64 + g * 16 + u] = row >= 0 ? b_ih[row] + b_hh[row] : 0.0f;
            }
    return l;
}

// acc[r][g] = Σ_k a[r][k] · w[k][block column g·16 + lane], for R rows of unsigned bytes (row stride lda) against one
// packed block (k4n groups of 4 inputs). The accumulators are named variables rather than an array, and each row
// count gets its own out-of-line copy: inlined into the large step functions, gcc 12 kept the accumulators in memory
// and ran this loop at 60 % of the speed clang reaches (both are fine with the small functions).
#define ROW_DECL(r) __m512i r##0 = _mm512_setzero_si512(), r##1 = r##0, r##2 = r##0, r##3 = r##0;
#define ROW_STEP(r, i) if (R > i) { int32_t four; memcpy(&four, a + i * lda + 4 * (size_t)k4, 4); \
    __m512i av = _mm512_set1_epi32(four); \
    r##0 = _mm512_dpbusd_epi32(r##0, av, b0); r##1 = _mm512_dpbusd_epi32(r##1, av, b1); \
    r##2 = _mm512_dpbusd_epi32(r##2, av, b2); r##3 = _mm512_dpbusd_epi32(r##3, av, b3); }
#define ROW_OUT(r, i) if (R > i) { acc[i][0] = r##0; acc[i][1] = r##1; acc[i][2] = r##2; acc[i][3] = r##3; }
INLINE TARGET void dot_rows(int R, const uint8_t *a, size_t lda, const int8_t *w, int k4n, __m512i acc[MR][4])
{
    ROW_DECL(p) ROW_DECL(q) ROW_DECL(s) ROW_DECL(t) ROW_DECL(u) ROW_DECL(v)
    for (int k4 = 0; k4 < k4n; k4++) {
        const int8_t *wp = w + (size_t)k4 * 256;
        __m512i b0 = _mm512_load_si512(wp), b1 = _mm512_load_si512(wp + 64);
        __m512i b2 = _mm512_load_si512(wp + 128), b3 = _mm512_load_si512(wp + 192);
        ROW_STEP(p, 0) ROW_STEP(q, 1) ROW_STEP(s, 2) ROW_STEP(t, 3) ROW_STEP(u, 4) ROW_STEP(v, 5)
    }
    ROW_OUT(p, 0) ROW_OUT(q, 1) ROW_OUT(s, 2) ROW_OUT(t, 3) ROW_OUT(u, 4) ROW_OUT(v, 5)
}

#define DOT_ROWS(R) static TARGET __attribute__((noinline)) void dot_rows_##R(const uint8_t *a, size_t lda, \
    const int8_t *w, int k4n, __m512i acc[MR][4]) { dot_rows(R, a, lda, w, k4n, acc); }
DOT_ROWS(1) DOT_ROWS(2) DOT_ROWS(3) DOT_ROWS(4) DOT_ROWS(5) DOT_ROWS(6)

static TARGET void dot_block(int R, const uint8_t *a, size_t lda, const int8_t *w, int k4n, __m512i acc[MR][4])
{
    switch (R) {
    case 6: dot_rows_6(a, lda, w, k4n, acc); break;
    case 5: dot_rows_5(a, lda, w, k4n, acc); break;
    case 4: dot_rows_4(a, lda, w, k4n, acc); break;
    case 3: dot_rows_3(a, lda, w, k4n, acc); break;
    case 2: dot_rows_2(a, lda, w, k4n, acc); break;
    default: dot_rows_1(a, lda, w, k4n, acc); break;
    }
}

// exp(x) for 16 lanes: 2^n · p(r) with r = x − n·ln2 in [−ln2/2, ln2/2], p a degree-6 Taylor polynomial
// (relative error below 2e-7 on that range); inputs clamped to ±87 so the result stays finite.
INLINE TARGET __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(87.0f)), _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

INLINE TARGET __m512 sigmoid16(__m512 x)
{
    return _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// tanh(x) = 2·sigmoid(2x) − 1 (absolute error ~1e-7, which is all the cell update needs).
INLINE TARGET __m512 tanh16(__m512 x)
{
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), sigmoid16(_mm512_add_ps(x, x)), _mm512_set1_ps(1.0f));
}

typedef struct {
    _Atomic int arrived;
    _Atomic int generation;
    int parties;
} spin_barrier;

static void barrier_wait(spin_barrier *b)
{
    if (b->parties == 1) return;
    int gen = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->parties - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&b->generation, 1, memory_order_release);
        return;
    }
    // Spin briefly (a step takes microseconds to milliseconds), then yield so an oversubscribed machine still progresses.
    for (int spins = 0; atomic_load_explicit(&b->generation, memory_order_acquire) == gen; spins++)
        if (spins < 20000) _mm_pause(); else sched_yield();
}

typedef struct forward_job forward_job;

// What differs between the paths: how activations are stored (zero is the byte that means q = 0) and the four
// operations below; the worker loop and the buffers are shared.
typedef struct {
    int mr;                 // batch rows per call of input_rows / step_rows
    uint8_t zero;
    float (*abs_max)(const float *src, int n);
    void (*quantize_row)(const float *src, int n, int n_pad, float scale, uint8_t *dst);
    // gates_in of R rows from r for unit block j: input products rescaled, plus bias.
    void (*input_rows)(forward_job *f, int R, int r, int j);
    // One time step for R batch rows from b and unit block j: recurrent products, gates, cell and output.
    void (*step_rows)(forward_job *f, int R, int b, int j, int t, int tt, int tc, const uint8_t *h_prev,
                      const float *h_prev_scale, float *h_out, float *row_max);
} int8_path;

struct forward_job {
    const int8_lstm *l;
    const int8_path *path;
    const float *x;         // (batch, steps, input)
    float *y;               // (batch, steps, hidden)
    int batch, steps, chunk, threads;
    uint8_t *xq;            // (batch, chunk, in_pad): quantized inputs of the current time chunk
    float *xs;              // (batch, chunk): their scales
    float *gates_in;        // (batch, chunk, 4·hid_pad): input products + bias, packed column order
    uint8_t *hq;            // (threads, batch, hid_pad): each worker's copy of h_{t-1}, quantized
    float *hs;              // (threads, batch): each worker's copy of their per-row scales
    float *hf[2];           // (batch, hid_pad): h_t in float32, by step parity
    float *row_max[2];      // (threads, batch): each worker's max |h_t| per row over its units, by step parity
    float *c;               // (batch, hid_pad): cell state
    spin_barrier barrier;
    _Atomic int start;      // 0 while threads are being created, 1 to run, -1 to return at once
};

typedef struct { forward_job *job; int id; } worker_arg;

// The symmetric int8 scale of a row whose largest magnitude is amax (1 for an all-zero row).
static float row_scale(float amax) { return amax > 0 ? amax / 127.0f : 1.0f; }

// ---- The AVX-512 VNNI path ----

// max |src[i]| over n floats (AVX-512).
static TARGET float vnni_abs_max(const float *src, int n)
{
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, src + i)));
    }
    return _mm512_reduce_max_ps(vmax);
}

// One row of activations to unsigned bytes: q + 128 with q = src[i] / scale rounded to nearest even (the default MXCSR
// mode) and clamped to ±127 for i < n, and 128 (q = 0) for the padding up to n_pad (a multiple of 4). Every
// quantization of inputs and of h goes through here, so a state carried into a new call quantizes exactly as it
// would have inside the previous one.
static TARGET void vnni_quantize_row(const float *src, int n, int n_pad, float scale, uint8_t *dst)
{
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f), inv = _mm512_set1_ps(1.0f / scale);
    for (int i = 0; i < n_pad; i += 16) {
        int left = n - i;
        __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : left > 0 ? (__mmask16)((1u << left) - 1) : 0;
        __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, src + i), inv), lo), hi);
        __m128i q = _mm512_cvtusepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(128)));
        int width = n_pad - i < 16 ? n_pad - i : 16;
        _mm_mask_storeu_epi8(dst + i, (__mmask16)((1u << width) - 1), q);
    }
}

// gates_in[r][block j] = x_q[r] · W_ih[block j] rescaled, plus bias, for R rows starting at r.
INLINE TARGET void vnni_input_block(forward_job *f, int R, int r, int j)
{
    const int8_lstm *l = f->l;
    __m512i acc[MR][4];
    dot_block(R, f->xq + (size_t)r * l->in_pad, l->in_pad, l->w_ih + (size_t)j * (l->in_pad / 4) * 256, l->in_pad / 4, acc);
    size_t stride = (size_t)l->hid_pad * 4;
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        __m512 xs = _mm512_set1_ps(f->xs[r + i]);
        float *out = f->gates_in + (size_t)(r + i) * stride + j * 64;
        for (int g = 0; g < 4; g++) {
            int col = j * 64 + g * 16;
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][g], _mm512_loadu_si512(l->c_ih + col)));
            v = _mm512_fmadd_ps(v, _mm512_mul_ps(xs, _mm512_loadu_ps(l->s_ih + col)), _mm512_loadu_ps(l->bias + col));
            _mm512_storeu_ps(out + g * 16, v);
        }
    }
}

// One time step for R batch rows from b and unit block j: recurrent products, gates, cell and output.
INLINE TARGET void vnni_step_block(forward_job *f, int R, int b, int j, int t, int tt, int tc, const uint8_t *h_prev,
                              const float *h_prev_scale, float *h_out, float *row_max)
{
    const int8_lstm *l = f->l;
    __m512i acc[MR][4];
    dot_block(R, h_prev + (size_t)b * l->hid_pad, l->hid_pad, l->w_hh + (size_t)j * (l->hid_pad / 4) * 256, l->hid_pad / 4, acc);
    int units = l->hidden - j * 16;
    __mmask16 keep = units >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << units) - 1);
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        int row = b + i;
        const float *gin = f->gates_in + ((size_t)row * tc + tt) * l->hid_pad * 4 + j * 64;
        __m512 pre[4], hs = _mm512_set1_ps(h_prev_scale[row]);
        for (int g = 0; g < 4; g++) {
            int col = j * 64 + g * 16;
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][g], _mm512_loadu_si512(l->c_hh + col)));
            pre[g] = _mm512_fmadd_ps(v, _mm512_mul_ps(hs, _mm512_loadu_ps(l->s_hh + col)), _mm512_loadu_ps(gin + g * 16));
        }
        __m512 ig = sigmoid16(pre[0]), fg = sigmoid16(pre[1]), gg = tanh16(pre[2]), og = sigmoid16(pre[3]);
        float *cp = f->c + (size_t)row * l->hid_pad + j * 16;
        __m512 c = _mm512_fmadd_ps(fg, _mm512_loadu_ps(cp), _mm512_mul_ps(ig, gg));
        _mm512_storeu_ps(cp, c);
        __m512 h = _mm512_mul_ps(og, tanh16(c));
        _mm512_mask_storeu_ps(f->y + ((size_t)row * f->steps + t) * l->hidden + j * 16, keep, h);
        _mm512_storeu_ps(h_out + (size_t)row * l->hid_pad + j * 16, h);
        float m = _mm512_reduce_max_ps(_mm512_abs_ps(h));  // padded units are 0
        if (m > row_max[row]) row_max[row] = m;
    }
}

#define DISPATCH_ROWS(R, CALL) switch (R) { case 6: CALL(6); break; case 5: CALL(5); break; case 4: CALL(4); break; \
    case 3: CALL(3); break; case 2: CALL(2); break; default: CALL(1); break; }

// Each row count gets its own unrolled copy of the block functions.
static TARGET void vnni_input_rows(forward_job *f, int R, int r, int j)
{
#define INPUT_CALL(K) vnni_input_block(f, K, r, j)
    DISPATCH_ROWS(R, INPUT_CALL)
#undef INPUT_CALL
}

static TARGET void vnni_step_rows(forward_job *f, int R, int b, int j, int t, int tt, int tc, const uint8_t *h_prev,
                                  const float *h_prev_scale, float *h_out, float *row_max)
{
#define STEP_CALL(K) vnni_step_block(f, K, b, j, t, tt, tc, h_prev, h_prev_scale, h_out, row_max)
    DISPATCH_ROWS(R, STEP_CALL)
#undef STEP_CALL
}

static const int8_path vnni_path = { MR, 128, vnni_abs_max, vnni_quantize_row, vnni_input_rows, vnni_step_rows };

// ---- The scalar path (the reference) and what the AVX2 path shares with it ----

static float scalar_abs_max(const float *src, int n)
{
    float m = 0;
    for (int i = 0; i < n; i++) m = fmaxf(m, fabsf(src[i]));
    return m;
}

// One row of activations to signed bytes q = src[i] / scale, clamped to ±127 and rounded to nearest even (lrintf in
// the default rounding mode), exactly as the VNNI path rounds before adding 128; 0 for the padding up to n_pad.
static void signed_quantize_row(const float *src, int n, int n_pad, float scale, uint8_t *dst)
{
    float inv = 1.0f / scale;
    for (int i = 0; i < n_pad; i++) {
        float v = i < n ? fminf(fmaxf(src[i] * inv, -127.0f), 127.0f) : 0.0f;
        ((int8_t *)dst)[i] = (int8_t)lrintf(v);
    }
}

// acc[r][col] = Σ_k a[r][k] · w[k][col] for R rows of signed bytes against one packed 64-column block.
static void scalar_dot(int R, const uint8_t *a, size_t lda, const int8_t *w, int k4n, int32_t acc[][64])
{
    for (int r = 0; r < R; r++) {
        const int8_t *row = (const int8_t *)a + r * lda;
        for (int col = 0; col < 64; col++) acc[r][col] = 0;
        for (int k4 = 0; k4 < k4n; k4++)
            for (int g = 0; g < 4; g++)
                for (int u = 0; u < 16; u++) {
                    const int8_t *wp = w + ((size_t)k4 * 4 + g) * 64 + u * 4;
                    int32_t s = 0;
                    for (int b = 0; b < 4; b++) s += row[k4 * 4 + b] * wp[b];
                    acc[r][g * 16 + u] += s;
                }
    }
}

// The VNNI path's exp, sigmoid and tanh, one lane: the same polynomial and operations in the same order.
static float exp1(float x)
{
    x = fmaxf(fminf(x, 87.0f), -87.0f);
    float n = nearbyintf(x * 1.44269504f);
    float r = fmaf(-n, 0.693145751953125f, x);
    r = fmaf(-n, 1.428606765330187e-06f, r);
    float p = 1.0f / 720;
    p = fmaf(p, r, 1.0f / 120);
    p = fmaf(p, r, 1.0f / 24);
    p = fmaf(p, r, 1.0f / 6);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    return ldexpf(p, (int)n);
}

static float sigmoid1(float x) { return 1.0f / (1.0f + exp1(0.0f - x)); }

static float tanh1(float x) { return fmaf(2.0f, sigmoid1(x + x), -1.0f); }

// Input products of R rows from r for block j, from their sums: the epilogue every non-VNNI path shares.
static void input_epilogue(forward_job *f, int R, int r, int j, int32_t acc[][64])
{
    const int8_lstm *l = f->l;
    size_t stride = (size_t)l->hid_pad * 4;
    for (int i = 0; i < R; i++) {
        float xs = f->xs[r + i];
        float *out = f->gates_in + (size_t)(r + i) * stride + j * 64;
        for (int col = 0; col < 64; col++)
            out[col] = fmaf((float)acc[i][col], xs * l->s_ih[j * 64 + col], l->bias[j * 64 + col]);
    }
}

static void scalar_input_rows(forward_job *f, int R, int r, int j)
{
    const int8_lstm *l = f->l;
    int32_t acc[1][64];
    for (int i = 0; i < R; i++) {
        scalar_dot(1, f->xq + (size_t)(r + i) * l->in_pad, l->in_pad, l->w_ih + (size_t)j * (l->in_pad / 4) * 256, l->in_pad / 4, acc);
        input_epilogue(f, 1, r + i, j, acc);
    }
}

// Gates, cell and output of one batch row for block j from its recurrent sums (the VNNI path's order of operations).
static void step_epilogue(forward_job *f, int row, int j, int t, int tt, int tc, const int32_t acc[64], float hs,
                          float *h_out, float *row_max)
{
    const int8_lstm *l = f->l;
    const float *gin = f->gates_in + ((size_t)row * tc + tt) * l->hid_pad * 4 + j * 64;
    float *cp = f->c + (size_t)row * l->hid_pad + j * 16;
    float m = row_max[row];
    for (int u = 0; u < 16; u++) {
        float pre[4];
        for (int g = 0; g < 4; g++) {
            int col = g * 16 + u;
            pre[g] = fmaf((float)acc[col], hs * l->s_hh[j * 64 + col], gin[col]);
        }
        float ig = sigmoid1(pre[0]), fg = sigmoid1(pre[1]), gg = tanh1(pre[2]), og = sigmoid1(pre[3]);
        float c = fmaf(fg, cp[u], ig * gg);
        cp[u] = c;
        float h = og * tanh1(c);
        if (j * 16 + u < l->hidden) f->y[((size_t)row * f->steps + t) * l->hidden + j * 16 + u] = h;
        h_out[(size_t)row * l->hid_pad + j * 16 + u] = h;
        m = fmaxf(m, fabsf(h));  // padded units are 0
    }
    row_max[row] = m;
}

static void scalar_step_rows(forward_job *f, int R, int b, int j, int t, int tt, int tc, const uint8_t *h_prev,
                             const float *h_prev_scale, float *h_out, float *row_max)
{
    const int8_lstm *l = f->l;
    int32_t acc[1][64];
    for (int i = 0; i < R; i++) {
        int row = b + i;
        scalar_dot(1, h_prev + (size_t)row * l->hid_pad, l->hid_pad, l->w_hh + (size_t)j * (l->hid_pad / 4) * 256, l->hid_pad / 4, acc);
        step_epilogue(f, row, j, t, tt, tc, acc[0], h_prev_scale[row], h_out, row_max);
    }
}

static const int8_path scalar_path = { 1, 0, scalar_abs_max, signed_quantize_row, scalar_input_rows, scalar_step_rows };

// ---- The AVX2 path ----

// The sums of one half (32 columns) of R (1 or 2) rows into acc, in the 256-bit paths' column order: register v of a
// half holds columns half·32 + v·8 .. +7, that is gate half·2 + v/2, units (v % 2)·8 .. +7.
INLINE AVX2 void store_half(int R, int half, int32_t acc[][64], __m256i p0, __m256i p1, __m256i p2, __m256i p3,
                            __m256i q0, __m256i q1, __m256i q2, __m256i q3)
{
    int32_t *o = acc[0] + half * 32;
    _mm256_storeu_si256((__m256i *)o, p0); _mm256_storeu_si256((__m256i *)(o + 8), p1);
    _mm256_storeu_si256((__m256i *)(o + 16), p2); _mm256_storeu_si256((__m256i *)(o + 24), p3);
    if (R > 1) {
        o = acc[1] + half * 32;
        _mm256_storeu_si256((__m256i *)o, q0); _mm256_storeu_si256((__m256i *)(o + 8), q1);
        _mm256_storeu_si256((__m256i *)(o + 16), q2); _mm256_storeu_si256((__m256i *)(o + 24), q3);
    }
}

// acc[r][col] for R (1 or 2) rows of signed bytes against one packed block: per 4-input group, the 32 columns of one
// half (gates 0-1 or 2-3) at a time, 8 per register. |a| · (w · sign a) keeps vpmaddubsw's int16 pair sums exact.
INLINE AVX2 void avx2_dot_half(int R, const uint8_t *a, size_t lda, const int8_t *w, int k4n, int half, int32_t acc[][64])
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i p0 = _mm256_setzero_si256(), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
    for (int k4 = 0; k4 < k4n; k4++) {
        const int8_t *wp = w + (size_t)k4 * 256 + half * 128;
        int32_t four;
        memcpy(&four, a + 4 * (size_t)k4, 4);
        __m256i a0 = _mm256_set1_epi32(four), u0 = _mm256_abs_epi8(a0);
        __m256i w0 = _mm256_load_si256((const __m256i *)wp), w1 = _mm256_load_si256((const __m256i *)(wp + 32));
        __m256i w2 = _mm256_load_si256((const __m256i *)(wp + 64)), w3 = _mm256_load_si256((const __m256i *)(wp + 96));
        p0 = _mm256_add_epi32(p0, _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(w0, a0)), ones));
        p1 = _mm256_add_epi32(p1, _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(w1, a0)), ones));
        p2 = _mm256_add_epi32(p2, _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(w2, a0)), ones));
        p3 = _mm256_add_epi32(p3, _mm256_madd_epi16(_mm256_maddubs_epi16(u0, _mm256_sign_epi8(w3, a0)), ones));
        if (R > 1) {
            memcpy(&four, a + lda + 4 * (size_t)k4, 4);
            __m256i a1 = _mm256_set1_epi32(four), u1 = _mm256_abs_epi8(a1);
            q0 = _mm256_add_epi32(q0, _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(w0, a1)), ones));
            q1 = _mm256_add_epi32(q1, _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(w1, a1)), ones));
            q2 = _mm256_add_epi32(q2, _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(w2, a1)), ones));
            q3 = _mm256_add_epi32(q3, _mm256_madd_epi16(_mm256_maddubs_epi16(u1, _mm256_sign_epi8(w3, a1)), ones));
        }
    }
    store_half(R, half, acc, p0, p1, p2, p3, q0, q1, q2, q3);
}


// exp, sigmoid and tanh for 8 lanes: exp16's polynomial, with 2^n built in the exponent bits (n is within ±126).
INLINE AVX2 __m256 exp8(__m256 x)
{
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(87.0f)), _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

INLINE AVX2 __m256 sigmoid8(__m256 x)
{
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

INLINE AVX2 __m256 tanh8(__m256 x)
{
    return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), sigmoid8(_mm256_add_ps(x, x)), _mm256_set1_ps(1.0f));
}

static AVX2 float avx2_abs_max(const float *src, int n)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 vmax = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(src + i)));
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float m = 0;
    for (int k = 0; k < 8; k++) m = fmaxf(m, lanes[k]);
    for (; i < n; i++) m = fmaxf(m, fabsf(src[i]));
    return m;
}

// signed_quantize_row for 8 lanes at a time: the same clamp, then vcvtps2dq's round to nearest even.
static AVX2 void avx2_quantize_row(const float *src, int n, int n_pad, float scale, uint8_t *dst)
{
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f), inv = _mm256_set1_ps(1.0f / scale);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i q = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_loadu_ps(src + i), inv), lo), hi));
        __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        __m128i q8 = _mm_packs_epi16(q16, q16);
        _mm_storel_epi64((__m128i *)(dst + i), q8);
    }
    signed_quantize_row(src + i, n - i, n_pad - i, scale, dst + i);
}

// The input epilogue of the 256-bit paths: gates_in of R rows from r for block j from their sums acc, less corr (the
// unsigned-offset correction, per packed column) when not NULL.
INLINE AVX2 void avx2_input_epilogue(forward_job *f, int R, int r, int j, int32_t acc[][64], const int32_t *corr)
{
    const int8_lstm *l = f->l;
    size_t stride = (size_t)l->hid_pad * 4;
    for (int i = 0; i < R; i++) {
        __m256 xs = _mm256_set1_ps(f->xs[r + i]);
        float *out = f->gates_in + (size_t)(r + i) * stride + j * 64;
        for (int col = 0; col < 64; col += 8) {
            __m256i sum = _mm256_load_si256((const __m256i *)(acc[i] + col));
            if (corr) sum = _mm256_sub_epi32(sum, _mm256_loadu_si256((const __m256i *)(corr + j * 64 + col)));
            __m256 v = _mm256_cvtepi32_ps(sum);
            v = _mm256_fmadd_ps(v, _mm256_mul_ps(xs, _mm256_loadu_ps(l->s_ih + j * 64 + col)), _mm256_loadu_ps(l->bias + j * 64 + col));
            _mm256_storeu_ps(out + col, v);
        }
    }
}

// The step epilogue of the 256-bit paths: gates, cell and output of R rows from b for block j from their recurrent
// sums acc, less corr when not NULL.
INLINE AVX2 void avx2_step_epilogue(forward_job *f, int R, int b, int j, int t, int tt, int tc, const float *h_prev_scale,
                                    float *h_out, float *row_max, int32_t acc[][64], const int32_t *corr)
{
    const int8_lstm *l = f->l;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int i = 0; i < R; i++) {
        int row = b + i;
        const float *gin = f->gates_in + ((size_t)row * tc + tt) * l->hid_pad * 4 + j * 64;
        __m256 hs = _mm256_set1_ps(h_prev_scale[row]), vmax = _mm256_setzero_ps();
        for (int half = 0; half < 2; half++) {   // units half·8 .. +7 of the block
            __m256 pre[4];
            for (int g = 0; g < 4; g++) {
                int col = g * 16 + half * 8;
                __m256i sum = _mm256_load_si256((const __m256i *)(acc[i] + col));
                if (corr) sum = _mm256_sub_epi32(sum, _mm256_loadu_si256((const __m256i *)(corr + j * 64 + col)));
                __m256 v = _mm256_cvtepi32_ps(sum);
                pre[g] = _mm256_fmadd_ps(v, _mm256_mul_ps(hs, _mm256_loadu_ps(l->s_hh + j * 64 + col)), _mm256_loadu_ps(gin + col));
            }
            __m256 ig = sigmoid8(pre[0]), fg = sigmoid8(pre[1]), gg = tanh8(pre[2]), og = sigmoid8(pre[3]);
            float *cp = f->c + (size_t)row * l->hid_pad + j * 16 + half * 8;
            __m256 c = _mm256_fmadd_ps(fg, _mm256_loadu_ps(cp), _mm256_mul_ps(ig, gg));
            _mm256_storeu_ps(cp, c);
            __m256 h = _mm256_mul_ps(og, tanh8(c));
            int units = l->hidden - (j * 16 + half * 8);
            float *y = f->y + ((size_t)row * f->steps + t) * l->hidden + j * 16 + half * 8;
            if (units >= 8) _mm256_storeu_ps(y, h);
            else if (units > 0) {
                __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(units), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
                _mm256_maskstore_ps(y, keep, h);
            }
            _mm256_storeu_ps(h_out + (size_t)row * l->hid_pad + j * 16 + half * 8, h);
            vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, h));  // padded units are 0
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, vmax);
        float m = row_max[row];
        for (int k = 0; k < 8; k++) m = fmaxf(m, lanes[k]);
        row_max[row] = m;
    }
}

// A 256-bit path's micro-kernel calls and row functions around its PREFIX##_dot_half: one out-of-line copy per row
// count (as on AVX-512, so gcc keeps the accumulators in registers), then the shared epilogues, with the +128
// offset's column-sum correction when OFFSET is 1.
#define PATH_256(PREFIX, ATTR, OFFSET) \
static ATTR __attribute__((noinline)) void PREFIX##_dot_1(const uint8_t *a, size_t lda, const int8_t *w, int k4n, int32_t acc[][64]) \
{ PREFIX##_dot_half(1, a, lda, w, k4n, 0, acc); PREFIX##_dot_half(1, a, lda, w, k4n, 1, acc); } \
static ATTR __attribute__((noinline)) void PREFIX##_dot_2(const uint8_t *a, size_t lda, const int8_t *w, int k4n, int32_t acc[][64]) \
{ PREFIX##_dot_half(2, a, lda, w, k4n, 0, acc); PREFIX##_dot_half(2, a, lda, w, k4n, 1, acc); } \
static ATTR void PREFIX##_input_rows(forward_job *f, int R, int r, int j) \
{ \
    const int8_lstm *l = f->l; \
    _Alignas(32) int32_t acc[MR_AVX2][64]; \
    const uint8_t *a = f->xq + (size_t)r * l->in_pad; \
    const int8_t *w = l->w_ih + (size_t)j * (l->in_pad / 4) * 256; \
    if (R > 1) PREFIX##_dot_2(a, l->in_pad, w, l->in_pad / 4, acc); else PREFIX##_dot_1(a, l->in_pad, w, l->in_pad / 4, acc); \
    avx2_input_epilogue(f, R, r, j, acc, OFFSET ? l->c_ih : NULL); \
} \
static ATTR void PREFIX##_step_rows(forward_job *f, int R, int b, int j, int t, int tt, int tc, const uint8_t *h_prev, \
                                    const float *h_prev_scale, float *h_out, float *row_max) \
{ \
    const int8_lstm *l = f->l; \
    _Alignas(32) int32_t acc[MR_AVX2][64]; \
    const uint8_t *a = h_prev + (size_t)b * l->hid_pad; \
    const int8_t *w = l->w_hh + (size_t)j * (l->hid_pad / 4) * 256; \
    if (R > 1) PREFIX##_dot_2(a, l->hid_pad, w, l->hid_pad / 4, acc); else PREFIX##_dot_1(a, l->hid_pad, w, l->hid_pad / 4, acc); \
    avx2_step_epilogue(f, R, b, j, t, tt, tc, h_prev_scale, h_out, row_max, acc, OFFSET ? l->c_hh : NULL); \
}

PATH_256(avx2, AVX2, 0)

static const int8_path avx2_path = { MR_AVX2, 0, avx2_abs_max, avx2_quantize_row, avx2_input_rows, avx2_step_rows };

// ---- The AVX-VNNI path ----

// acc[r][col] for R (1 or 2) rows of unsigned bytes (q + 128) against one packed block, 32 columns (one half) at a
// time as on AVX2; vpdpbusd adds four byte products into each int32 lane without an int16 step, so nothing saturates.
INLINE AVXVNNI void avxvnni_dot_half(int R, const uint8_t *a, size_t lda, const int8_t *w, int k4n, int half, int32_t acc[][64])
{
    __m256i p0 = _mm256_setzero_si256(), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
    for (int k4 = 0; k4 < k4n; k4++) {
        const int8_t *wp = w + (size_t)k4 * 256 + half * 128;
        int32_t four;
        memcpy(&four, a + 4 * (size_t)k4, 4);
        __m256i a0 = _mm256_set1_epi32(four);
        __m256i w0 = _mm256_load_si256((const __m256i *)wp), w1 = _mm256_load_si256((const __m256i *)(wp + 32));
        __m256i w2 = _mm256_load_si256((const __m256i *)(wp + 64)), w3 = _mm256_load_si256((const __m256i *)(wp + 96));
        p0 = _mm256_dpbusd_avx_epi32(p0, a0, w0); p1 = _mm256_dpbusd_avx_epi32(p1, a0, w1);
        p2 = _mm256_dpbusd_avx_epi32(p2, a0, w2); p3 = _mm256_dpbusd_avx_epi32(p3, a0, w3);
        if (R > 1) {
            memcpy(&four, a + lda + 4 * (size_t)k4, 4);
            __m256i a1 = _mm256_set1_epi32(four);
            q0 = _mm256_dpbusd_avx_epi32(q0, a1, w0); q1 = _mm256_dpbusd_avx_epi32(q1, a1, w1);
            q2 = _mm256_dpbusd_avx_epi32(q2, a1, w2); q3 = _mm256_dpbusd_avx_epi32(q3, a1, w3);
        }
    }
    store_half(R, half, acc, p0, p1, p2, p3, q0, q1, q2, q3);
}


// avx2_quantize_row's bytes, then + 128 (q in [−127, 127], so flipping the top bit is the offset): the padding becomes
// 128, q = 0, as vnni_quantize_row makes it.
static AVXVNNI void avxvnni_quantize_row(const float *src, int n, int n_pad, float scale, uint8_t *dst)
{
    avx2_quantize_row(src, n, n_pad, scale, dst);
    int i = 0;
    for (; i + 32 <= n_pad; i += 32)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(dst + i)), _mm256_set1_epi8((char)0x80)));
    for (; i < n_pad; i++) dst[i] ^= 0x80;
}

PATH_256(avxvnni, AVXVNNI, 1)

static const int8_path avxvnni_path = { MR_AVX2, 128, avx2_abs_max, avxvnni_quantize_row, avxvnni_input_rows, avxvnni_step_rows };

// ---- What every path shares ----

static const int8_path *path_of(int path)
{
    switch (path) {
    case PATH_AVX512_VNNI: return &vnni_path;
    case PATH_AVX_VNNI: return &avxvnni_path;
    case PATH_AVX2: return &avx2_path;
    default: return &scalar_path;
    }
}

// Quantizes rows [r0, r1) of the chunk starting at time t0 (row = b · chunk + tt) with a per-row dynamic scale.
static void quantize_inputs(forward_job *f, int t0, int tc, int r0, int r1)
{
    const int8_lstm *l = f->l;
    for (int r = r0; r < r1; r++) {
        int b = r / tc, tt = r % tc;
        const float *src = f->x + ((size_t)b * f->steps + t0 + tt) * l->input;
        f->xs[r] = row_scale(f->path->abs_max(src, l->input));
        f->path->quantize_row(src, l->input, l->in_pad, f->xs[r], f->xq + (size_t)r * l->in_pad);
    }
}

// Quantizes all of h_t (every worker's units) into this worker's copy, with per-row scales from every worker's maxima.
static void quantize_hidden(forward_job *f, const float *h, const float *row_max, uint8_t *hq, float *hs)
{
    const int8_lstm *l = f->l;
    for (int row = 0; row < f->batch; row++) {
        float m = 0;
        for (int k = 0; k < f->threads; k++) m = fmaxf(m, row_max[(size_t)k * f->batch + row]);
        hs[row] = row_scale(m);
        f->path->quantize_row(h + (size_t)row * l->hid_pad, l->hid_pad, l->hid_pad, hs[row], hq + (size_t)row * l->hid_pad);
    }
}

static void *worker(void *p)
{
    worker_arg *arg = p;
    forward_job *f = arg->job;
    const int8_lstm *l = f->l;
    const int8_path *path = f->path;
    int go;
    while ((go = atomic_load_explicit(&f->start, memory_order_acquire)) == 0) _mm_pause();
    if (go < 0) return NULL;
    int id = arg->id, n = f->threads, mr = path->mr;
    int j0 = l->blocks * id / n, j1 = l->blocks * (id + 1) / n;
    uint8_t *my_hq = f->hq + (size_t)id * f->batch * l->hid_pad;
    float *my_hs = f->hs + (size_t)id * f->batch;
    long step = 0;
    for (int t0 = 0; t0 < f->steps; t0 += f->chunk) {
        int tc = f->steps - t0 < f->chunk ? f->steps - t0 : f->chunk;
        int rows = f->batch * tc;
        quantize_inputs(f, t0, tc, rows * id / n, rows * (id + 1) / n);
        barrier_wait(&f->barrier);
        // Input products for this worker's columns only: the recurrence below reads no other columns.
        for (int rc = 0; rc < rows; rc += 192) {
            int rend = rc + 192 < rows ? rc + 192 : rows;
            for (int j = j0; j < j1; j++)
                for (int r = rc; r < rend; r += mr)
                    path->input_rows(f, rend - r < mr ? rend - r : mr, r, j);
        }
        for (int tt = 0; tt < tc; tt++, step++) {
            int p = step & 1;
            float *row_max = f->row_max[p] + (size_t)id * f->batch;
            for (int b = 0; b < f->batch; b++) row_max[b] = 0;
            for (int j = j0; j < j1; j++)
                for (int b = 0; b < f->batch; b += mr)
                    path->step_rows(f, f->batch - b < mr ? f->batch - b : mr, b, j, t0 + tt, tt, tc, my_hq, my_hs, f->hf[p], row_max);
            barrier_wait(&f->barrier);
            quantize_hidden(f, f->hf[p], f->row_max[p], my_hq, my_hs);
        }
    }
    return NULL;
}

// Runs the layer over x (batch, steps, input), batch-first float32, from h0 and c0 (batch, hidden; NULL for zeros),
// on the given path (PATH_*), or the fastest this CPU runs when path < 0. Writes y (batch, steps, hidden), and h_n,
// c_n (batch, hidden) when not NULL. Returns 0, or −1 for invalid arguments (a path this CPU lacks among them), −2
// when memory or threads could not be had.
int ulm_int8_lstm_forward_path(const void *handle, const float *x, int batch, int steps, const float *h0, const float *c0,
                               float *y, float *h_n, float *c_n, int threads, int path)
{
    const int8_lstm *l = handle;
    if (!l || !x || !y || batch <= 0 || steps <= 0 || path >= PATH_COUNT) return -1;
    int paths = ulm_int8_lstm_paths();
    if (path < 0)
        path = paths & (1 << PATH_AVX512_VNNI) ? PATH_AVX512_VNNI : paths & (1 << PATH_AVX_VNNI) ? PATH_AVX_VNNI
             : paths & (1 << PATH_AVX2) ? PATH_AVX2 : PATH_SCALAR;
    if (!(paths & (1 << path))) return -1;
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > l->blocks) threads = l->blocks;
    forward_job f = { .l = l, .path = path_of(path), .x = x, .y = y, .batch = batch, .steps = steps, .threads = threads };
    size_t row_bytes = (size_t)l->hid_pad * 4 * sizeof(float);
    size_t chunk = G_BUDGET_BYTES / (row_bytes * (size_t)batch);
    f.chunk = chunk < 1 ? 1 : chunk > (size_t)steps ? steps : (int)chunk;
    size_t rows = (size_t)batch * f.chunk;
    f.xq = aligned_alloc(64, (rows * l->in_pad + 63) / 64 * 64);
    f.xs = malloc(rows * sizeof(float));
    f.gates_in = aligned_alloc(64, rows * row_bytes);
    size_t state_bytes = (size_t)batch * l->hid_pad;
    f.hq = aligned_alloc(64, (state_bytes * threads + 63) / 64 * 64);
    f.hs = malloc((size_t)batch * threads * sizeof(float));
    f.c = aligned_alloc(64, (state_bytes * sizeof(float) + 63) / 64 * 64);
    for (int k = 0; k < 2; k++) {
        f.hf[k] = aligned_alloc(64, (state_bytes * sizeof(float) + 63) / 64 * 64);
        f.row_max[k] = malloc((size_t)batch * threads * sizeof(float));
    }
    int rc = 0;
    if (!f.xq || !f.xs || !f.gates_in || !f.hq || !f.hs || !f.c || !f.hf[0] || !f.hf[1] || !f.row_max[0] || !f.row_max[1]) { rc = -2; goto done; }
    // h0 is quantized as every later step is (per row), into worker 0's copy, then copied to the others; c0 as it is.
    for (int b = 0; b < batch; b++) {
        uint8_t *hq = f.hq + (size_t)b * l->hid_pad;
        if (h0) {
            const float *row = h0 + (size_t)b * l->hidden;
            f.hs[b] = row_scale(f.path->abs_max(row, l->hidden));
            f.path->quantize_row(row, l->hidden, l->hid_pad, f.hs[b], hq);
        } else {
            f.hs[b] = 1.0f;
            memset(hq, f.path->zero, l->hid_pad);
        }
        for (int u = 0; u < l->hid_pad; u++)
            f.c[(size_t)b * l->hid_pad + u] = c0 && u < l->hidden ? c0[(size_t)b * l->hidden + u] : 0.0f;
    }
    for (int k = 1; k < threads; k++) {
        memcpy(f.hq + k * state_bytes, f.hq, state_bytes);
        memcpy(f.hs + (size_t)k * batch, f.hs, (size_t)batch * sizeof(float));
    }
    f.barrier.parties = threads;
    atomic_init(&f.barrier.arrived, 0);
    atomic_init(&f.barrier.generation, 0);
    // Workers wait at the start gate until every thread exists, so a failed pthread_create can still call them off.
    atomic_init(&f.start, 0);
    worker_arg args[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started = 0;
    for (int i = 1; i < threads; i++) {
        args[i] = (worker_arg){ &f, i };
        if (pthread_create(&ids[i], NULL, worker, &args[i]) != 0) break;
        started++;
    }
    if (started != threads - 1) rc = -2;
    atomic_store_explicit(&f.start, rc == 0 ? 1 : -1, memory_order_release);
    args[0] = (worker_arg){ &f, 0 };
    if (rc == 0) worker(&args[0]);
    for (int i = 1; i <= started; i++) pthread_join(ids[i], NULL);
    if (rc == 0)
        for (int b = 0; b < batch; b++) {
            if (h_n) memcpy(h_n + (size_t)b * l->hidden, y + ((size_t)b * steps + steps - 1) * l->hidden, l->hidden * sizeof(float));
            if (c_n) memcpy(c_n + (size_t)b * l->hidden, f.c + (size_t)b * l->hid_pad, l->hidden * sizeof(float));
        }
done:
    free(f.xq); free(f.xs); free(f.gates_in); free(f.hq); free(f.hs); free(f.c);
    free(f.hf[0]); free(f.hf[1]); free(f.row_max[0]); free(f.row_max[1]);
    return rc;
}

// The same on the fastest path this CPU runs.
int ulm_int8_lstm_forward(const void *handle, const float *x, int batch, int steps, const float *h0, const float *c0,
                          float *y, float *h_n, float *c_n, int threads)
{
    return ulm_int8_lstm_forward_path(handle, x, batch, steps, h0, c0, y, h_n, c_n, threads, -1);
}
