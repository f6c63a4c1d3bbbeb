// Int8 LSTM inference on AVX-512 VNNI: one fused kernel per layer, called from Ulmfit.NET through P/Invoke
// (src/Ulmfit/Modeling/Int8Lstm*.cs). libtorch has no fused int8 LSTM, and an int8 product inside a per-step loop of
// libtorch ops loses more in the unfused gate arithmetic than it gains (docs/benchmarks.md), so the whole layer —
// input products, recurrent products, gates, cell update — runs here, on weights packed once.
//
// Numbers. Weights: per-output-row symmetric int8 (scale = max|row| / 127). Layer input x and hidden state h: per-row
// (one token of one document) symmetric int8 with a dynamic scale. (A fixed 1/127 for h, exact since |h| <= 1, would
// spare the per-worker copies below but cost 2 % relative error on an untrained encoder, whose h stay small.)
// VNNI multiplies unsigned by signed bytes, so activations are stored as q + 128 and the products are corrected with
// 128 · (column sum of the weights). Accumulators are int32 (at most 1152 · 255 · 127 per product, far below 2^31);
// gates, cell and outputs are float32.
//
// Layout. Units are padded to a multiple of 16 (Hp) and grouped in blocks of 16; a block's 64 columns are the i, f, g, o
// gates (PyTorch's order) of its 16 units, so one 4 × 16-lane accumulator row holds everything the cell update of 16
// units needs and the gates never leave registers. Packed weights, per block j and group of 4 inputs k4:
// [j][k4][gate 0..3][unit 0..15][4 bytes], the operand layout of vpdpbusd. Padded units have zero weights and bias,
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

#define TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))
#define INLINE static inline __attribute__((always_inline))
#define MR 6            // batch rows per micro-kernel call: 6 × 4 accumulators + 4 weight vectors + 1 broadcast <= 32 registers
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

int ulm_int8_lstm_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vnni");
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

typedef struct {
    const int8_lstm *l;
    const float *x;         // (batch, steps, input)
    float *y;               // (batch, steps, hidden)
    int batch, steps, chunk, threads;
    uint8_t *xq;            // (batch, chunk, in_pad): quantized inputs of the current time chunk
    float *xs;              // (batch, chunk): their scales
    float *gates_in;        // (batch, chunk, 4·hid_pad): input products + bias, packed column order
    uint8_t *hq;            // (threads, batch, hid_pad): each worker's copy of h_{t-1}, quantized (q + 128)
    float *hs;              // (threads, batch): each worker's copy of their per-row scales
    float *hf[2];           // (batch, hid_pad): h_t in float32, by step parity
    float *row_max[2];      // (threads, batch): each worker's max |h_t| per row over its units, by step parity
    float *c;               // (batch, hid_pad): cell state
    spin_barrier barrier;
    _Atomic int start;      // 0 while threads are being created, 1 to run, -1 to return at once
} forward_job;

typedef struct { forward_job *job; int id; } worker_arg;

// max |src[i]| over n floats.
static TARGET float abs_max(const float *src, int n)
{
    __m512 vmax = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, src + i)));
    }
    return _mm512_reduce_max_ps(vmax);
}

// The symmetric int8 scale of a row whose largest magnitude is amax (1 for an all-zero row).
static float row_scale(float amax) { return amax > 0 ? amax / 127.0f : 1.0f; }

// One row of activations to unsigned bytes: q + 128 with q = src[i] / scale rounded to nearest even (the default MXCSR
// mode) and clamped to ±127 for i < n, and 128 (q = 0) for the padding up to n_pad (a multiple of 4). Every
// quantization of inputs and of h goes through here, so a state carried into a new call quantizes exactly as it
// would have inside the previous one.
static TARGET void quantize_row(const float *src, int n, int n_pad, float scale, uint8_t *dst)
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

// Quantizes rows [r0, r1) of the chunk starting at time t0 (row = b · chunk + tt) with a per-row dynamic scale.
static TARGET void quantize_inputs(forward_job *f, int t0, int tc, int r0, int r1)
{
    const int8_lstm *l = f->l;
    for (int r = r0; r < r1; r++) {
        int b = r / tc, tt = r % tc;
        const float *src = f->x + ((size_t)b * f->steps + t0 + tt) * l->input;
        f->xs[r] = row_scale(abs_max(src, l->input));
        quantize_row(src, l->input, l->in_pad, f->xs[r], f->xq + (size_t)r * l->in_pad);
    }
}

// gates_in[r][block j] = x_q[r] · W_ih[block j] rescaled, plus bias, for R rows starting at r.
INLINE TARGET void input_block(forward_job *f, int R, int r, int j)
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
INLINE TARGET void step_block(forward_job *f, int R, int b, int j, int t, int tt, int tc, const uint8_t *h_prev,
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

// Quantizes all of h_t (every worker's units) into this worker's copy, with per-row scales from every worker's maxima.
static TARGET void quantize_hidden(forward_job *f, const float *h, const float *row_max, uint8_t *hq, float *hs)
{
    const int8_lstm *l = f->l;
    for (int row = 0; row < f->batch; row++) {
        float m = 0;
        for (int k = 0; k < f->threads; k++) m = fmaxf(m, row_max[(size_t)k * f->batch + row]);
        hs[row] = row_scale(m);
        quantize_row(h + (size_t)row * l->hid_pad, l->hid_pad, l->hid_pad, hs[row], hq + (size_t)row * l->hid_pad);
    }
}

#define DISPATCH_ROWS(R, CALL) switch (R) { case 6: CALL(6); break; case 5: CALL(5); break; case 4: CALL(4); break; \
    case 3: CALL(3); break; case 2: CALL(2); break; default: CALL(1); break; }

static TARGET void *worker(void *p)
{
    worker_arg *arg = p;
    forward_job *f = arg->job;
    const int8_lstm *l = f->l;
    int go;
    while ((go = atomic_load_explicit(&f->start, memory_order_acquire)) == 0) _mm_pause();
    if (go < 0) return NULL;
    int id = arg->id, n = f->threads;
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
                for (int r = rc; r < rend; r += MR) {
                    int R = rend - r < MR ? rend - r : MR;
#define INPUT_CALL(K) input_block(f, K, r, j)
                    DISPATCH_ROWS(R, INPUT_CALL)
                }
        }
        for (int tt = 0; tt < tc; tt++, step++) {
            int p = step & 1;
            float *row_max = f->row_max[p] + (size_t)id * f->batch;
            for (int b = 0; b < f->batch; b++) row_max[b] = 0;
            for (int j = j0; j < j1; j++)
                for (int b = 0; b < f->batch; b += MR) {
                    int R = f->batch - b < MR ? f->batch - b : MR;
#define STEP_CALL(K) step_block(f, K, b, j, t0 + tt, tt, tc, my_hq, my_hs, f->hf[p], row_max)
                    DISPATCH_ROWS(R, STEP_CALL)
                }
            barrier_wait(&f->barrier);
            quantize_hidden(f, f->hf[p], f->row_max[p], my_hq, my_hs);
        }
    }
    return NULL;
}

// Runs the layer over x (batch, steps, input), batch-first float32, from h0 and c0 (batch, hidden; NULL for zeros).
// Writes y (batch, steps, hidden), and h_n, c_n (batch, hidden) when not NULL. Returns 0, or −1 for invalid
// arguments, −2 when memory or threads could not be had.
int ulm_int8_lstm_forward(const void *handle, const float *x, int batch, int steps, const float *h0, const float *c0,
                          float *y, float *h_n, float *c_n, int threads)
{
    const int8_lstm *l = handle;
    if (!l || !x || !y || batch <= 0 || steps <= 0) return -1;
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if (threads > l->blocks) threads = l->blocks;
    forward_job f = { .l = l, .x = x, .y = y, .batch = batch, .steps = steps, .threads = threads };
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
            f.hs[b] = row_scale(abs_max(row, l->hidden));
            quantize_row(row, l->hidden, l->hid_pad, f.hs[b], hq);
        } else {
            f.hs[b] = 1.0f;
            memset(hq, 128, l->hid_pad);
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
