/*
 * Direct convolution with output channels in the vector (NCHWc-style),
 * float32, AVX-512 and AVX2: the kernel for convolutions with many channels
 * on small maps (3x3 stride 1 and 2 with 64+ channels onto 2x2 .. 28x28),
 * where a pixel-vector kernel leaves most lanes empty (a 4-wide output row
 * fills 4 of 16) and im2col + GEMM has few columns per weight row.
 *
 *   x     one image zero-padded (C, Hp, Wp): output pixel p at tap t reads
 *         x[c chan_len + poff[p] + toff[t]] (so there are no bounds checks).
 *   poff  P offsets, one per output pixel in row-major order: S oh Wp + S ow.
 *   toff  taps offsets: i Wp + j for tap t = i KW + j.
 *   w     the packed weight of one 16-channel block onwards:
 *         (ceil(O / 16), C, taps, 16), zero past O; wblock = C taps 16 floats
 *         from one block to the next.
 *   nch   output channels of this call (1..64): up to four 16-channel blocks.
 *   bias  NULL or 64 floats (zero past nch): the accumulators start from it.
 *   relu  nonzero: relu_of's rule as the tile is stored.
 *   out   the first channel's output plane (P floats), the next P floats on.
 *
 * A register tile is 64 output channels (four zmm) x 6 pixels on AVX-512 (48 x 8,
 * 32 x 12, 16 x 12 for a last group of fewer channels: 12-24 accumulators);
 * each weight vector is loaded once per (channel, tap) and each input pixel is
 * broadcast once for all the vectors.  AVX2 has half the registers and half the
 * width: 16 channels (two ymm) x 6 pixels.  Pixel tails run tiles of 8, 4, 2
 * and 1 (AVX2: 4, 2, 1).  Every output element is one FMA chain over
 * (input channel, tap) in order from its bias or zero, in both: AVX-512 and
 * AVX2 give the same bits, and so does every split of the work over threads.
 * A tile is stored transposed (pixels of one channel are adjacent in NCHW).
 */
#ifndef JITCORE_CONV_NCHWC_H
#define JITCORE_CONV_NCHWC_H

#include <stddef.h>
#include "cpu_features.h"
#include "transpose_blocks.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_NCHWC_COMPILED 1
#define JC_NCHWC_ISA JC_ISA_AVX512
#define JC_NCHWC_AVX2_ISA JC_ISA_AVX2
#else
#define JC_NCHWC_COMPILED 0
#define JC_NCHWC_ISA JC_ISA_NONE
#define JC_NCHWC_AVX2_ISA JC_ISA_NONE
#endif

/* channels of a packed block; channels of one call at most */
#define JC_NCHWC_BLOCK 16
#define JC_NCHWC_GROUP 64

#if JC_NCHWC_COMPILED

#define JC_NC512_MAX_R 12

/* NV (1..4) zmm of channels x R pixels; tile[r][k] gets channel k of pixel r. */
__attribute__((target("avx512f"), always_inline))
static inline void jc_nc512_tile(const float *x, ptrdiff_t C, ptrdiff_t chan_len,
                                 const ptrdiff_t *toff, ptrdiff_t taps, const ptrdiff_t *poff,
                                 const float *w, ptrdiff_t wblock, const float *bias, int relu,
                                 float *tile, const int NV, const int R)
{
    __m512 acc[JC_NC512_MAX_R][4];
    __m512 b[4];
    const float *wp[4];
    for (int v = 0; v < NV; v++) {
        b[v] = bias ? _mm512_loadu_ps(bias + 16 * v) : _mm512_setzero_ps();
        wp[v] = w + v * wblock;
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++)
            acc[r][v] = b[v];
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *xc = x + c * chan_len;
        for (ptrdiff_t t = 0; t < taps; t++) {
            const float *xt = xc + toff[t];
            __m512 wv[4];
            for (int v = 0; v < NV; v++) {
                wv[v] = _mm512_loadu_ps(wp[v]);
                wp[v] += 16;
            }
            for (int r = 0; r < R; r++) {
                const __m512 xv = _mm512_set1_ps(xt[poff[r]]);
                for (int v = 0; v < NV; v++)
                    acc[r][v] = _mm512_fmadd_ps(wv[v], xv, acc[r][v]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < NV; v++) {
            __m512 a = acc[r][v];
            if (relu)   /* relu_of's rule: keep x where x > 0 or x is NaN, else +0 */
                a = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NLE_UQ), a);
            _mm512_storeu_ps(tile + r * JC_NCHWC_GROUP + v * 16, a);
        }
    }
}

/* Channels [0, nch) of the tile's R pixels into their NCHW planes. */
static inline void jc_nchwc_store(const float *tile, ptrdiff_t R, ptrdiff_t nch,
                                  float *out, ptrdiff_t P)
{
    for (ptrdiff_t k = 0; k < nch; k++)
        for (ptrdiff_t r = 0; r < R; r++)
            out[k * P + r] = tile[r * JC_NCHWC_GROUP + k];
}

#define JC_NC512_CASE(NV, R) \
    case R: jc_nc512_tile(x, C, chan_len, toff, taps, poff + p, w, wblock, bias, relu, tile, \
                          NV, R); break

/* The largest tile of NV vectors that fits ``left`` pixels (24-32 accumulators
 * for the full ones), its tail tiles 8, 4, 2, 1. */
static inline ptrdiff_t jc_nc512_pixels(int NV, ptrdiff_t left)
{
    const ptrdiff_t full = NV == 4 ? 6 : NV == 3 ? 8 : 12;
    return left >= full ? full : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

__attribute__((target("avx512f")))
static void jc_nchwc_f32(const float *x, ptrdiff_t C, ptrdiff_t chan_len,
                         const ptrdiff_t *toff, ptrdiff_t taps, const ptrdiff_t *poff,
                         ptrdiff_t P, const float *w, ptrdiff_t wblock, ptrdiff_t nch,
                         const float *bias, int relu, float *out)
{
    float tile[JC_NC512_MAX_R * JC_NCHWC_GROUP];
    const int NV = (int)((nch + JC_NCHWC_BLOCK - 1) / JC_NCHWC_BLOCK);
    ptrdiff_t p = 0;
    while (p < P) {
        const ptrdiff_t R = jc_nc512_pixels(NV, P - p);
        switch (NV) {
        case 4:
            switch (R) { JC_NC512_CASE(4, 6); JC_NC512_CASE(4, 4); JC_NC512_CASE(4, 2);
                         default: JC_NC512_CASE(4, 1); }
            break;
        case 3:
            switch (R) { JC_NC512_CASE(3, 8); JC_NC512_CASE(3, 4); JC_NC512_CASE(3, 2);
                         default: JC_NC512_CASE(3, 1); }
            break;
        case 2:
            switch (R) { JC_NC512_CASE(2, 12); JC_NC512_CASE(2, 8); JC_NC512_CASE(2, 4);
                         JC_NC512_CASE(2, 2); default: JC_NC512_CASE(2, 1); }
            break;
        default:
            switch (R) { JC_NC512_CASE(1, 12); JC_NC512_CASE(1, 8); JC_NC512_CASE(1, 4);
                         JC_NC512_CASE(1, 2); default: JC_NC512_CASE(1, 1); }
            break;
        }
        jc_nchwc_store(tile, R, nch, out + p, P);
        p += R;
    }
}
#undef JC_NC512_CASE

/* The packed weight from a weight whose rows (one per output channel, L = C taps
 * floats) are ``ld`` floats apart: out[(o / 16) L 16 + q 16 + o % 16] = w[o ld + q],
 * zero past O; a 16 x 16 register transpose per 16 rows x 16 columns. */
__attribute__((target("avx512f")))
static void jc_nchwc_pack_weight_f32(const float *w, ptrdiff_t ld, ptrdiff_t O, ptrdiff_t L,
                                     float *out)
{
    __m512 r[16];
    for (ptrdiff_t o0 = 0; o0 < O; o0 += JC_NCHWC_BLOCK) {
        const ptrdiff_t count = O - o0 < JC_NCHWC_BLOCK ? O - o0 : JC_NCHWC_BLOCK;
        float *blk = out + o0 * L;
        for (ptrdiff_t q0 = 0; q0 < L; q0 += 16) {
            const ptrdiff_t n = L - q0 < 16 ? L - q0 : 16;
            const __mmask16 mask = (__mmask16)((1u << n) - 1u);
            for (ptrdiff_t k = 0; k < 16; k++)
                r[k] = k < count ? _mm512_maskz_loadu_ps(mask, w + (o0 + k) * ld + q0)
                                 : _mm512_setzero_ps();
            jc_transpose16_ps(r);
            for (ptrdiff_t k = 0; k < n; k++)
                _mm512_storeu_ps(blk + (q0 + k) * JC_NCHWC_BLOCK, r[k]);
        }
    }
}

/* ---- AVX2: 16 channels (two ymm of one packed block) x 6 pixels */
#define JC_NC256_MAX_R 6

__attribute__((target("arch=x86-64-v3"), always_inline))
static inline void jc_nc256_tile(const float *x, ptrdiff_t C, ptrdiff_t chan_len,
                                 const ptrdiff_t *toff, ptrdiff_t taps, const ptrdiff_t *poff,
                                 const float *w, const float *bias, int relu,
                                 float *tile, const int R)
{
    __m256 acc[JC_NC256_MAX_R][2];
    const __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    const __m256 b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    for (int r = 0; r < R; r++) {
        acc[r][0] = b0;
        acc[r][1] = b1;
    }
    for (ptrdiff_t c = 0; c < C; c++) {
        const float *xc = x + c * chan_len;
        for (ptrdiff_t t = 0; t < taps; t++, w += 16) {
            const float *xt = xc + toff[t];
            const __m256 wa = _mm256_loadu_ps(w), wb = _mm256_loadu_ps(w + 8);
            for (int r = 0; r < R; r++) {
                const __m256 xv = _mm256_broadcast_ss(xt + poff[r]);
                acc[r][0] = _mm256_fmadd_ps(wa, xv, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(wb, xv, acc[r][1]);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < 2; v++) {
            __m256 a = acc[r][v];
            if (relu)
                a = _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NLE_UQ), a);
            _mm256_storeu_ps(tile + r * JC_NCHWC_GROUP + v * 8, a);
        }
    }
}

#define JC_NC256_CASE(R) \
    jc_nc256_tile(x, C, chan_len, toff, taps, poff + p, wb, bb, relu, tile, R)

__attribute__((target("arch=x86-64-v3")))
static void jc_nchwc_f32_avx2(const float *x, ptrdiff_t C, ptrdiff_t chan_len,
                              const ptrdiff_t *toff, ptrdiff_t taps, const ptrdiff_t *poff,
                              ptrdiff_t P, const float *w, ptrdiff_t wblock, ptrdiff_t nch,
                              const float *bias, int relu, float *out)
{
    float tile[JC_NC256_MAX_R * JC_NCHWC_GROUP];
    for (ptrdiff_t h = 0; h < nch; h += JC_NCHWC_BLOCK) {
        const float *wb = w + (h / JC_NCHWC_BLOCK) * wblock;
        const float *bb = bias ? bias + h : NULL;
        const ptrdiff_t n = nch - h < JC_NCHWC_BLOCK ? nch - h : JC_NCHWC_BLOCK;
        ptrdiff_t p = 0;
        while (p < P) {
            ptrdiff_t R = P - p >= 6 ? 6 : P - p >= 4 ? 4 : P - p >= 2 ? 2 : 1;
            switch (R) {
            case 6: JC_NC256_CASE(6); break;
            case 4: JC_NC256_CASE(4); break;
            case 2: JC_NC256_CASE(2); break;
            default: JC_NC256_CASE(1); break;
            }
            jc_nchwc_store(tile, R, n, out + h * P + p, P);
            p += R;
        }
    }
}
#undef JC_NC256_CASE

/* jc_nchwc_pack_weight_f32 by 8 x 8 transposes, each 16-channel block in halves. */
__attribute__((target("arch=x86-64-v3")))
static void jc_nchwc_pack_weight_f32_avx2(const float *w, ptrdiff_t ld, ptrdiff_t O,
                                          ptrdiff_t L, float *out)
{
    __m256 r[8];
    /* both halves of the last block, the one past O as zeros */
    const ptrdiff_t padded = (O + JC_NCHWC_BLOCK - 1) / JC_NCHWC_BLOCK * JC_NCHWC_BLOCK;
    for (ptrdiff_t o0 = 0; o0 < padded; o0 += 8) {
        const ptrdiff_t count = O - o0 < 0 ? 0 : O - o0 < 8 ? O - o0 : 8;
        float *blk = out + (o0 / JC_NCHWC_BLOCK) * JC_NCHWC_BLOCK * L + o0 % JC_NCHWC_BLOCK;
        for (ptrdiff_t q0 = 0; q0 < L; q0 += 8) {
            const ptrdiff_t n = L - q0 < 8 ? L - q0 : 8;
            const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n),
                                                    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            for (ptrdiff_t k = 0; k < 8; k++)
                r[k] = k < count ? _mm256_maskload_ps(w + (o0 + k) * ld + q0, mask)
                                 : _mm256_setzero_ps();
            jc_transpose8_ps(r);
            for (ptrdiff_t k = 0; k < n; k++)
                _mm256_storeu_ps(blk + (q0 + k) * JC_NCHWC_BLOCK, r[k]);
        }
    }
}
#else
static void jc_nchwc_f32(const float *x, ptrdiff_t C, ptrdiff_t chan_len,
                         const ptrdiff_t *toff, ptrdiff_t taps, const ptrdiff_t *poff,
                         ptrdiff_t P, const float *w, ptrdiff_t wblock, ptrdiff_t nch,
                         const float *bias, int relu, float *out)
{
    (void)x; (void)C; (void)chan_len; (void)toff; (void)taps; (void)poff; (void)P; (void)w;
    (void)wblock; (void)nch; (void)bias; (void)relu; (void)out;
}
static void jc_nchwc_f32_avx2(const float *x, ptrdiff_t C, ptrdiff_t chan_len,
                              const ptrdiff_t *toff, ptrdiff_t taps, const ptrdiff_t *poff,
                              ptrdiff_t P, const float *w, ptrdiff_t wblock, ptrdiff_t nch,
                              const float *bias, int relu, float *out)
{
    jc_nchwc_f32(x, C, chan_len, toff, taps, poff, P, w, wblock, nch, bias, relu, out);
}
static void jc_nchwc_pack_weight_f32(const float *w, ptrdiff_t ld, ptrdiff_t O, ptrdiff_t L,
                                     float *out)
{
    (void)w; (void)ld; (void)O; (void)L; (void)out;
}
#define jc_nchwc_pack_weight_f32_avx2 jc_nchwc_pack_weight_f32
#endif

#endif /* JITCORE_CONV_NCHWC_H */
