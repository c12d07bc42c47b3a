/*
 * A depthwise convolution plane, float32, on AVX-512 and AVX2.
 *
 * conv.pyx copies each input plane once into a zero-padded buffer split into
 * the strides' row and column phases, so that for every stride the input of
 * tap (i, j) along the plane's output, flattened over the padded width, is one
 * contiguous run: ``base + offs[t]``, element q.  The plane is then KH*KW
 * broadcast-FMA passes kept in registers (64 outputs per block, four
 * independent chains), written once.
 *
 * Every output element is the FMA chain over the taps in (i, j) order from
 * zero, on both ISAs (the AVX2 tail uses masked loads, never a scalar fmaf
 * that the compiler might split), so AVX-512 and AVX2 give the same bits;
 * the baseline path in conv.pyx multiplies and adds (no FMA).  Tails are
 * masked, so no load reads past the last input the row needs.
 */
#ifndef JITCORE_CONV_DEPTHWISE_H
#define JITCORE_CONV_DEPTHWISE_H

#include <stddef.h>
#include "cpu_features.h"
#include "transpose_blocks.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_DEPTHWISE_COMPILED 1
#define JC_DEPTHWISE_ISA JC_ISA_AVX512
#define JC_DEPTHWISE_AVX2_ISA JC_ISA_AVX2
#else
#define JC_DEPTHWISE_COMPILED 0
#define JC_DEPTHWISE_ISA JC_ISA_NONE
#define JC_DEPTHWISE_AVX2_ISA JC_ISA_NONE
#endif

#if JC_DEPTHWISE_COMPILED

/* The row's epilogue, applied as it is stored: ``+ bias`` after the sum (as the
 * per-plane epilogue adds it), then act: JC_DW_RELU keeps x where x > 0 or x is
 * NaN, else +0 (relu_of); JC_DW_RELU6 is clamp_of(x, 0, 6): x < 0 -> 0, then
 * > 6 -> 6, NaN kept; JC_DW_HARDSWISH is unary_ops.h's jc_hardswishf, step by
 * step (x / 6 divided, + 0.5, clipped to [0, 1] keeping NaN, times x). */
#define JC_DW_NONE 0
#define JC_DW_RELU 1
#define JC_DW_RELU6 2
#define JC_DW_HARDSWISH 3

__attribute__((target("avx512f")))
static inline __m512 jc_dw_finish512(__m512 v, __m512 bias, int act)
{
    v = _mm512_add_ps(v, bias);
    if (act == JC_DW_RELU)
        v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NLE_UQ), v);
    else if (act == JC_DW_RELU6) {
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ),
                               _mm512_setzero_ps());
        v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, _mm512_set1_ps(6.0f), _CMP_GT_OQ),
                               _mm512_set1_ps(6.0f));
    }
    else if (act == JC_DW_HARDSWISH) {
        __m512 y = _mm512_add_ps(_mm512_div_ps(v, _mm512_set1_ps(6.0f)), _mm512_set1_ps(0.5f));
        y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ),
                               _mm512_setzero_ps());
        y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(y, _mm512_set1_ps(1.0f), _CMP_GT_OQ),
                               _mm512_set1_ps(1.0f));
        v = _mm512_mul_ps(v, y);
    }
    return v;
}

__attribute__((target("avx2,fma")))
static inline __m256 jc_dw_finish256(__m256 v, __m256 bias, int act)
{
    v = _mm256_add_ps(v, bias);
    if (act == JC_DW_RELU)
        v = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NLE_UQ), v);
    else if (act == JC_DW_RELU6) {
        v = _mm256_blendv_ps(v, _mm256_setzero_ps(),
                             _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
        v = _mm256_blendv_ps(v, _mm256_set1_ps(6.0f),
                             _mm256_cmp_ps(v, _mm256_set1_ps(6.0f), _CMP_GT_OQ));
    }
    else if (act == JC_DW_HARDSWISH) {
        __m256 y = _mm256_add_ps(_mm256_div_ps(v, _mm256_set1_ps(6.0f)), _mm256_set1_ps(0.5f));
        y = _mm256_blendv_ps(y, _mm256_setzero_ps(),
                             _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_LT_OQ));
        y = _mm256_blendv_ps(y, _mm256_set1_ps(1.0f),
                             _mm256_cmp_ps(y, _mm256_set1_ps(1.0f), _CMP_GT_OQ));
        v = _mm256_mul_ps(v, y);
    }
    return v;
}

__attribute__((target("avx512f")))
static void jc_depthwise_row_f32(const float *base, const ptrdiff_t *offs, const float *w,
                                 ptrdiff_t taps, float *out, ptrdiff_t OW,
                                 float bias, int act)
{
    ptrdiff_t ow = 0, t;
    __m512 bv = _mm512_set1_ps(bias);
    for (; ow + 64 <= OW; ow += 64) {
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        for (t = 0; t < taps; t++) {
            const float *p = base + offs[t] + ow;
            __m512 wv = _mm512_set1_ps(w[t]);
            a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p), a0);
            a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 16), a1);
            a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 32), a2);
            a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(p + 48), a3);
        }
        _mm512_storeu_ps(out + ow, jc_dw_finish512(a0, bv, act));
        _mm512_storeu_ps(out + ow + 16, jc_dw_finish512(a1, bv, act));
        _mm512_storeu_ps(out + ow + 32, jc_dw_finish512(a2, bv, act));
        _mm512_storeu_ps(out + ow + 48, jc_dw_finish512(a3, bv, act));
    }
    if (ow < OW) {
        /* the last 1..63 outputs: up to four masked vectors, still four chains */
        __mmask16 m[4];
        __m512 a[4];
        int v;
        for (v = 0; v < 4; v++) {
            ptrdiff_t left = OW - ow - 16 * v;
            m[v] = left >= 16 ? (__mmask16)0xffff
                 : left > 0 ? (__mmask16)((1u << left) - 1) : (__mmask16)0;
            a[v] = _mm512_setzero_ps();
        }
        for (t = 0; t < taps; t++) {
            const float *p = base + offs[t] + ow;
            __m512 wv = _mm512_set1_ps(w[t]);
            for (v = 0; v < 4; v++)
                a[v] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m[v], p + 16 * v), a[v]);
        }
        for (v = 0; v < 4; v++)
            _mm512_mask_storeu_ps(out + ow + 16 * v, m[v], jc_dw_finish512(a[v], bv, act));
    }
}

__attribute__((target("avx2,fma")))
static void jc_depthwise_row_f32_avx2(const float *base, const ptrdiff_t *offs, const float *w,
                                      ptrdiff_t taps, float *out, ptrdiff_t OW,
                                      float bias, int act)
{
    ptrdiff_t ow = 0, t;
    __m256 bv = _mm256_set1_ps(bias);
    for (; ow + 32 <= OW; ow += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        for (t = 0; t < taps; t++) {
            const float *p = base + offs[t] + ow;
            __m256 wv = _mm256_set1_ps(w[t]);
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(p + 24), a3);
        }
        _mm256_storeu_ps(out + ow, jc_dw_finish256(a0, bv, act));
        _mm256_storeu_ps(out + ow + 8, jc_dw_finish256(a1, bv, act));
        _mm256_storeu_ps(out + ow + 16, jc_dw_finish256(a2, bv, act));
        _mm256_storeu_ps(out + ow + 24, jc_dw_finish256(a3, bv, act));
    }
    if (ow < OW) {
        /* the last 1..31 outputs: up to four masked vectors, still four chains */
        __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i m[4];
        __m256 a[4];
        int v;
        for (v = 0; v < 4; v++) {
            ptrdiff_t left = OW - ow - 8 * v;
            m[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(left > 8 ? 8 : left < 0 ? 0 : (int)left),
                                      lanes);
            a[v] = _mm256_setzero_ps();
        }
        for (t = 0; t < taps; t++) {
            const float *p = base + offs[t] + ow;
            __m256 wv = _mm256_set1_ps(w[t]);
            for (v = 0; v < 4; v++)
                a[v] = _mm256_fmadd_ps(wv, _mm256_maskload_ps(p + 8 * v, m[v]), a[v]);
        }
        for (v = 0; v < 4; v++)
            _mm256_maskstore_ps(out + ow + 8 * v, m[v], jc_dw_finish256(a[v], bv, act));
    }
}

/*
 * A whole plane whose output rows fit one vector (OW <= 16 on AVX-512, 8 on
 * AVX2), read in place from the NCHW input (unit column stride, rows
 * ``xs_row`` floats apart), stride 1 or 2 along the width: no padded copy.
 * Each tap's input row is one masked load (stride 2: two, their even lanes
 * picked by a permute); the lanes that fall on padding, and whole rows that
 * do, load zeros, so every output is the same FMA chain over the taps in
 * (i, j) order from zero as the padded-copy kernels compute.  Four output
 * rows at a time: four independent chains.
 */
#define JC_DW_SMALL_MAX_KW 16

/* Lanes [lo, hi) of a 32-lane window as a bit mask. */
static inline unsigned int jc_dw_span_bits(ptrdiff_t lo, ptrdiff_t hi)
{
    if (lo < 0) lo = 0;
    if (hi > 32) hi = 32;
    if (hi <= lo) return 0u;
    return (hi - lo == 32 ? 0xffffffffu : ((1u << (hi - lo)) - 1u)) << lo;
}

/* The input lanes (stride sw: window element e is column c0 + e) that lie inside the
 * row, of the 2*OW-1 (sw == 2) or OW (sw == 1) the output reads. */
static inline unsigned int jc_dw_column_bits(ptrdiff_t c0, ptrdiff_t W, ptrdiff_t OW,
                                             ptrdiff_t sw)
{
    ptrdiff_t used = sw == 1 ? OW : 2 * OW - 1;
    ptrdiff_t hi = W - c0 < used ? W - c0 : used;
    return jc_dw_span_bits(-c0, hi);
}

/* One tap's inputs of an output row: window lanes ``bits`` from ``p`` (stride 2: the
 * even lanes of a 32-lane window), zero elsewhere. */
__attribute__((target("avx512f")))
static inline __m512 jc_dw_taps512(const float *p, unsigned int bits, ptrdiff_t sw, __m512i even)
{
    if (sw == 1)
        return _mm512_maskz_loadu_ps((__mmask16)bits, p);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)bits, p), even,
                                  _mm512_maskz_loadu_ps((__mmask16)(bits >> 16), p + 16));
}

__attribute__((target("avx512f")))
static void jc_depthwise_small_f32(const float *x, ptrdiff_t H, ptrdiff_t W, ptrdiff_t xs_row,
                                   const float *w, ptrdiff_t KH, ptrdiff_t KW,
                                   ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t ph, ptrdiff_t pw,
                                   ptrdiff_t dh, ptrdiff_t dw, float *out,
                                   ptrdiff_t OH, ptrdiff_t OW, float bias, int act)
{
    unsigned int cols[JC_DW_SMALL_MAX_KW];
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14,
                                           16, 18, 20, 22, 24, 26, 28, 30);
    const __mmask16 store = OW >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << OW) - 1);
    __m512 bv = _mm512_set1_ps(bias);
    ptrdiff_t i, j, oh, r;
    for (j = 0; j < KW; j++)
        cols[j] = jc_dw_column_bits(j * dw - pw, W, OW, sw);
    for (oh = 0; oh < OH; oh += 4) {
        /* four named accumulators: an array indexed in a loop would live on the stack */
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        ptrdiff_t rows = OH - oh < 4 ? OH - oh : 4;
        for (i = 0; i < KH; i++) {
            const float *src[4];
            unsigned int inside[4];
            for (r = 0; r < 4; r++) {
                ptrdiff_t ih = (oh + r) * sh + i * dh - ph;
                inside[r] = r < rows && ih >= 0 && ih < H ? 0xffffffffu : 0u;
                src[r] = inside[r] ? x + ih * xs_row - pw : x;
            }
            for (j = 0; j < KW; j++) {
                __m512 wv = _mm512_set1_ps(w[i * KW + j]);
                ptrdiff_t c = j * dw;
                a0 = _mm512_fmadd_ps(wv, jc_dw_taps512(src[0] + c, inside[0] & cols[j], sw, even), a0);
                a1 = _mm512_fmadd_ps(wv, jc_dw_taps512(src[1] + c, inside[1] & cols[j], sw, even), a1);
                a2 = _mm512_fmadd_ps(wv, jc_dw_taps512(src[2] + c, inside[2] & cols[j], sw, even), a2);
                a3 = _mm512_fmadd_ps(wv, jc_dw_taps512(src[3] + c, inside[3] & cols[j], sw, even), a3);
            }
        }
        _mm512_mask_storeu_ps(out + oh * OW, store, jc_dw_finish512(a0, bv, act));
        if (rows > 1)
            _mm512_mask_storeu_ps(out + (oh + 1) * OW, store, jc_dw_finish512(a1, bv, act));
        if (rows > 2)
            _mm512_mask_storeu_ps(out + (oh + 2) * OW, store, jc_dw_finish512(a2, bv, act));
        if (rows > 3)
            _mm512_mask_storeu_ps(out + (oh + 3) * OW, store, jc_dw_finish512(a3, bv, act));
    }
}

/* The low 8 bits of ``bits`` as an AVX2 lane mask. */
__attribute__((target("avx2,fma")))
static inline __m256i jc_dw_mask256(unsigned int bits)
{
    const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256i b = _mm256_and_si256(_mm256_set1_epi32((int)(bits & 0xffu)), lane_bit);
    return _mm256_cmpeq_epi32(b, lane_bit);
}

/* jc_dw_taps512 on 8 lanes (stride 2: the even lanes of a 16-lane window). */
__attribute__((target("avx2,fma")))
static inline __m256 jc_dw_taps256(const float *p, unsigned int bits, ptrdiff_t sw)
{
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    if (sw == 1)
        return _mm256_maskload_ps(p, jc_dw_mask256(bits));
    return _mm256_blend_ps(
        _mm256_permutevar8x32_ps(_mm256_maskload_ps(p, jc_dw_mask256(bits)), even),
        _mm256_permutevar8x32_ps(_mm256_maskload_ps(p + 8, jc_dw_mask256(bits >> 8)), even),
        0xf0);
}

__attribute__((target("avx2,fma")))
static void jc_depthwise_small_f32_avx2(const float *x, ptrdiff_t H, ptrdiff_t W,
                                        ptrdiff_t xs_row, const float *w,
                                        ptrdiff_t KH, ptrdiff_t KW,
                                        ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t ph, ptrdiff_t pw,
                                        ptrdiff_t dh, ptrdiff_t dw, float *out,
                                        ptrdiff_t OH, ptrdiff_t OW, float bias, int act)
{
    unsigned int cols[JC_DW_SMALL_MAX_KW];
    const __m256i store = jc_dw_mask256(OW >= 8 ? 0xffu : (1u << OW) - 1u);
    __m256 bv = _mm256_set1_ps(bias);
    ptrdiff_t i, j, oh, r;
    for (j = 0; j < KW; j++)
        cols[j] = jc_dw_column_bits(j * dw - pw, W, OW, sw);
    for (oh = 0; oh < OH; oh += 4) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        ptrdiff_t rows = OH - oh < 4 ? OH - oh : 4;
        for (i = 0; i < KH; i++) {
            const float *src[4];
            unsigned int inside[4];
            for (r = 0; r < 4; r++) {
                ptrdiff_t ih = (oh + r) * sh + i * dh - ph;
                inside[r] = r < rows && ih >= 0 && ih < H ? 0xffffffffu : 0u;
                src[r] = inside[r] ? x + ih * xs_row - pw : x;
            }
            for (j = 0; j < KW; j++) {
                __m256 wv = _mm256_set1_ps(w[i * KW + j]);
                ptrdiff_t c = j * dw;
                a0 = _mm256_fmadd_ps(wv, jc_dw_taps256(src[0] + c, inside[0] & cols[j], sw), a0);
                a1 = _mm256_fmadd_ps(wv, jc_dw_taps256(src[1] + c, inside[1] & cols[j], sw), a1);
                a2 = _mm256_fmadd_ps(wv, jc_dw_taps256(src[2] + c, inside[2] & cols[j], sw), a2);
                a3 = _mm256_fmadd_ps(wv, jc_dw_taps256(src[3] + c, inside[3] & cols[j], sw), a3);
            }
        }
        _mm256_maskstore_ps(out + oh * OW, store, jc_dw_finish256(a0, bv, act));
        if (rows > 1)
            _mm256_maskstore_ps(out + (oh + 1) * OW, store, jc_dw_finish256(a1, bv, act));
        if (rows > 2)
            _mm256_maskstore_ps(out + (oh + 2) * OW, store, jc_dw_finish256(a2, bv, act));
        if (rows > 3)
            _mm256_maskstore_ps(out + (oh + 3) * OW, store, jc_dw_finish256(a3, bv, act));
    }
}

/*
 * A whole "same" stride-1 plane (OH == H, OW == W, rows W apart) flattened: output
 * q = oh * W + ow reads tap t's input at ``x + q + offs[t]``, so each vector of
 * outputs is one masked load per tap, across row ends.  ``masks[v * taps + t]``
 * (built once per call by conv.pyx: the same for every plane; one more row of
 * zeros after the last vector's) keeps the lanes of vector v whose tap-t input
 * lies inside the plane; the others load zeros, so every
 * output is the same FMA chain over the taps in (i, j) order from zero as the padded
 * kernels compute.  Four vectors at a time: four independent chains.
 */
__attribute__((target("avx512f")))
static void jc_depthwise_flat_f32(const float *x, ptrdiff_t P, const ptrdiff_t *offs,
                                  const unsigned short *masks, const float *w, ptrdiff_t taps,
                                  float *out, float bias, int act)
{
    ptrdiff_t nvec = (P + 15) / 16, v, t, k;
    __m512 bv = _mm512_set1_ps(bias);
    for (v = 0; v < nvec; v += 4) {
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        /* vectors past the last read nothing: row nvec of the table is zeros */
        const unsigned short *m0 = masks + v * taps;
        const unsigned short *m1 = masks + (v + 1 < nvec ? v + 1 : nvec) * taps;
        const unsigned short *m2 = masks + (v + 2 < nvec ? v + 2 : nvec) * taps;
        const unsigned short *m3 = masks + (v + 3 < nvec ? v + 3 : nvec) * taps;
        const float *p = x + 16 * v;
        for (t = 0; t < taps; t++) {
            __m512 wv = _mm512_set1_ps(w[t]);
            const float *q = p + offs[t];
            a0 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)m0[t], q), a0);
            a1 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)m1[t], q + 16), a1);
            a2 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)m2[t], q + 32), a2);
            a3 = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps((__mmask16)m3[t], q + 48), a3);
        }
        for (k = 0; k < 4 && v + k < nvec; k++) {
            ptrdiff_t left = P - 16 * (v + k);
            __mmask16 store = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
            __m512 r = k == 0 ? a0 : k == 1 ? a1 : k == 2 ? a2 : a3;
            _mm512_mask_storeu_ps(out + 16 * (v + k), store, jc_dw_finish512(r, bv, act));
        }
    }
}

__attribute__((target("avx2,fma")))
static void jc_depthwise_flat_f32_avx2(const float *x, ptrdiff_t P, const ptrdiff_t *offs,
                                       const unsigned short *masks, const float *w,
                                       ptrdiff_t taps, float *out, float bias, int act)
{
    ptrdiff_t nvec = (P + 7) / 8, v, t, k;
    __m256 bv = _mm256_set1_ps(bias);
    for (v = 0; v < nvec; v += 4) {
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        const unsigned short *m0 = masks + v * taps;
        const unsigned short *m1 = masks + (v + 1 < nvec ? v + 1 : nvec) * taps;
        const unsigned short *m2 = masks + (v + 2 < nvec ? v + 2 : nvec) * taps;
        const unsigned short *m3 = masks + (v + 3 < nvec ? v + 3 : nvec) * taps;
        const float *p = x + 8 * v;
        for (t = 0; t < taps; t++) {
            __m256 wv = _mm256_set1_ps(w[t]);
            const float *q = p + offs[t];
            a0 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(q, jc_dw_mask256(m0[t])), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(q + 8, jc_dw_mask256(m1[t])), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(q + 16, jc_dw_mask256(m2[t])), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_maskload_ps(q + 24, jc_dw_mask256(m3[t])), a3);
        }
        for (k = 0; k < 4 && v + k < nvec; k++) {
            ptrdiff_t left = P - 8 * (v + k);
            __m256 r = k == 0 ? a0 : k == 1 ? a1 : k == 2 ? a2 : a3;
            _mm256_maskstore_ps(out + 8 * (v + k),
                                jc_dw_mask256(left >= 8 ? 0xffu : (1u << left) - 1u),
                                jc_dw_finish256(r, bv, act));
        }
    }
}

/*
 * ``dst[k] = src[2 k]`` for k in [0, n): the even/odd column split of a stride-2
 * plane's padded copy.  Loads never reach past src[2 (n - 1)].
 */
__attribute__((target("avx512f")))
static void jc_dw_even_f32(const float *src, float *dst, ptrdiff_t n)
{
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14,
                                           16, 18, 20, 22, 24, 26, 28, 30);
    ptrdiff_t k = 0;
    for (; k + 16 <= n; k += 16)
        _mm512_storeu_ps(dst + k, _mm512_permutex2var_ps(
            _mm512_loadu_ps(src + 2 * k), even,
            _mm512_maskz_loadu_ps((__mmask16)0x7fff, src + 2 * k + 16)));
    if (k < n) {
        unsigned int bits = jc_dw_span_bits(0, 2 * (n - k) - 1);
        _mm512_mask_storeu_ps(dst + k, (__mmask16)((1u << (n - k)) - 1u),
                              _mm512_permutex2var_ps(
                                  _mm512_maskz_loadu_ps((__mmask16)bits, src + 2 * k), even,
                                  _mm512_maskz_loadu_ps((__mmask16)(bits >> 16),
                                                        src + 2 * k + 16)));
    }
}

__attribute__((target("avx2,fma")))
static void jc_dw_even_f32_avx2(const float *src, float *dst, ptrdiff_t n)
{
    ptrdiff_t k = 0;
    for (; k + 8 <= n; k += 8)
        _mm256_storeu_ps(dst + k, jc_dw_taps256(src + 2 * k, 0x7fffu, 2));
    if (k < n) {
        unsigned int bits = jc_dw_span_bits(0, 2 * (n - k) - 1);
        _mm256_maskstore_ps(dst + k, jc_dw_mask256((1u << (n - k)) - 1u),
                            jc_dw_taps256(src + 2 * k, bits, 2));
    }
}

/*
 * Planes of at most one vector of outputs (4x4, 2x2) waste most of a vector's
 * lanes in every other layout; there jc_depthwise_block_f32 vectorises over
 * channels instead: conv.pyx packs a block of JC_DEPTHWISE_BLOCK_C channels (8
 * on AVX2) channels-last, ``xb[(row * Wp + col) * CB + c]`` (zero-padded, the
 * missing channels of a last block zero too), the weights as ``wb[tap * CB + c]``,
 * and gets every output pixel's CB channels at ``tb[pixel * CB + c]``: the same
 * FMA chain per element as the other kernels.
 */
#define JC_DEPTHWISE_BLOCK_C 16

/* The input of output pixel q (row-major over OH x OW) at tap (0, 0). */
static inline const float *jc_dw_block_base(const float *xb, ptrdiff_t Wp, ptrdiff_t sh,
                                            ptrdiff_t sw, ptrdiff_t OW, ptrdiff_t q,
                                            ptrdiff_t CB)
{
    return xb + ((q / OW) * sh * Wp + (q % OW) * sw) * CB;
}

/* Pixels run flattened over the output in groups of four independent FMA
 * chains, across row ends, so that a 2-wide map still keeps four chains. */
__attribute__((target("avx512f")))
static void jc_depthwise_block_f32(const float *xb, ptrdiff_t Wp, const float *wb,
                                   ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t sh, ptrdiff_t sw,
                                   ptrdiff_t dh, ptrdiff_t dw, float *tb,
                                   ptrdiff_t OH, ptrdiff_t OW)
{
    const ptrdiff_t CB = 16, P = OH * OW;
    ptrdiff_t q = 0;
    for (; q + 4 <= P; q += 4) {
        const float *x0 = jc_dw_block_base(xb, Wp, sh, sw, OW, q, CB);
        const float *x1 = jc_dw_block_base(xb, Wp, sh, sw, OW, q + 1, CB);
        const float *x2 = jc_dw_block_base(xb, Wp, sh, sw, OW, q + 2, CB);
        const float *x3 = jc_dw_block_base(xb, Wp, sh, sw, OW, q + 3, CB);
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        __m512 a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
        const float *wk = wb;
        for (ptrdiff_t i = 0; i < KH; i++) {
            for (ptrdiff_t j = 0; j < KW; j++, wk += CB) {
                const ptrdiff_t off = (i * dh * Wp + j * dw) * CB;
                __m512 wv = _mm512_loadu_ps(wk);
                a0 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x0 + off), a0);
                a1 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x1 + off), a1);
                a2 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x2 + off), a2);
                a3 = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x3 + off), a3);
            }
        }
        float *t = tb + q * CB;
        _mm512_storeu_ps(t, a0);
        _mm512_storeu_ps(t + CB, a1);
        _mm512_storeu_ps(t + 2 * CB, a2);
        _mm512_storeu_ps(t + 3 * CB, a3);
    }
    for (; q < P; q++) {
        const float *x0 = jc_dw_block_base(xb, Wp, sh, sw, OW, q, CB);
        __m512 a0 = _mm512_setzero_ps();
        const float *wk = wb;
        for (ptrdiff_t i = 0; i < KH; i++)
            for (ptrdiff_t j = 0; j < KW; j++, wk += CB)
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(wk),
                                     _mm512_loadu_ps(x0 + (i * dh * Wp + j * dw) * CB), a0);
        _mm512_storeu_ps(tb + q * CB, a0);
    }
}

/* AVX2: 8 channels per block, the same chains. */
#define JC_DEPTHWISE_BLOCK_C_AVX2 8

__attribute__((target("arch=x86-64-v3")))
static void jc_depthwise_block_f32_avx2(const float *xb, ptrdiff_t Wp, const float *wb,
                                        ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t sh, ptrdiff_t sw,
                                        ptrdiff_t dh, ptrdiff_t dw, float *tb,
                                        ptrdiff_t OH, ptrdiff_t OW)
{
    const ptrdiff_t CB = 8, P = OH * OW;
    ptrdiff_t q = 0;
    for (; q + 4 <= P; q += 4) {
        const float *x0 = jc_dw_block_base(xb, Wp, sh, sw, OW, q, CB);
        const float *x1 = jc_dw_block_base(xb, Wp, sh, sw, OW, q + 1, CB);
        const float *x2 = jc_dw_block_base(xb, Wp, sh, sw, OW, q + 2, CB);
        const float *x3 = jc_dw_block_base(xb, Wp, sh, sw, OW, q + 3, CB);
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
        const float *wk = wb;
        for (ptrdiff_t i = 0; i < KH; i++) {
            for (ptrdiff_t j = 0; j < KW; j++, wk += CB) {
                const ptrdiff_t off = (i * dh * Wp + j * dw) * CB;
                __m256 wv = _mm256_loadu_ps(wk);
                a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x0 + off), a0);
                a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x1 + off), a1);
                a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x2 + off), a2);
                a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x3 + off), a3);
            }
        }
        float *t = tb + q * CB;
        _mm256_storeu_ps(t, a0);
        _mm256_storeu_ps(t + CB, a1);
        _mm256_storeu_ps(t + 2 * CB, a2);
        _mm256_storeu_ps(t + 3 * CB, a3);
    }
    for (; q < P; q++) {
        const float *x0 = jc_dw_block_base(xb, Wp, sh, sw, OW, q, CB);
        __m256 a0 = _mm256_setzero_ps();
        const float *wk = wb;
        for (ptrdiff_t i = 0; i < KH; i++)
            for (ptrdiff_t j = 0; j < KW; j++, wk += CB)
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(wk),
                                     _mm256_loadu_ps(x0 + (i * dh * Wp + j * dw) * CB), a0);
        _mm256_storeu_ps(tb + q * CB, a0);
    }
}

/*
 * The channel-blocked layout's copies, vectorised: a block of CB channel
 * planes into the channels-last padded buffer (jc_dw_pack_block) and the
 * channels-last result back into the NCHW planes (jc_dw_unpack_block), each a
 * CB x CB transpose in registers (unpack, shuffle, lane shuffle) where the
 * scalar copies moved one float at a time; on the small planes this layout is
 * for they cost more than the taps.  Moves only: the bits are the scalar copies'.
 *
 *   pack:   src + c cs + h rs + w (c < count, h < H, w < W) -> dst + h drs + w CB + c;
 *           channels count..CB - 1 are written as zero, nothing outside the
 *           H x W pixels (a buffer zeroed once keeps its padding).
 *   unpack: tb + p CB + c (p < P, c < count) -> dst + c ds + p; with act >= 0
 *           (a JC_DW_* code) the row kernels' epilogue on the way, bias[c]
 *           (bias may be NULL) then act.
 */
__attribute__((target("avx512f")))
static void jc_dw_pack_block_f32(const float *src, ptrdiff_t cs, ptrdiff_t rs, ptrdiff_t count,
                                 ptrdiff_t H, ptrdiff_t W, float *dst, ptrdiff_t drs)
{
    /* rows back to back (a contiguous plane): 16 pixels per load across row ends */
    const int flat = rs == W;
    const ptrdiff_t rows = flat ? 1 : H, len = flat ? H * W : W;
    __m512 r[16];
    for (ptrdiff_t h = 0; h < rows; h++) {
        for (ptrdiff_t q0 = 0; q0 < len; q0 += 16) {
            const ptrdiff_t n = len - q0 < 16 ? len - q0 : 16;
            const __mmask16 mask = (__mmask16)((1u << n) - 1u);
            for (ptrdiff_t c = 0; c < 16; c++)
                r[c] = c < count ? _mm512_maskz_loadu_ps(mask, src + c * cs + h * rs + q0)
                                 : _mm512_setzero_ps();
            jc_transpose16_ps(r);
            for (ptrdiff_t k = 0; k < n; k++) {
                const ptrdiff_t q = q0 + k;
                _mm512_storeu_ps(dst + (flat ? (q / W) * drs + (q % W) * 16 : h * drs + q * 16),
                                 r[k]);
            }
        }
    }
}

__attribute__((target("avx512f")))
static void jc_dw_unpack_block_f32(const float *tb, ptrdiff_t P, ptrdiff_t count, float *dst,
                                   ptrdiff_t ds, const float *bias, int act)
{
    __m512 r[16];
    for (ptrdiff_t p0 = 0; p0 < P; p0 += 16) {
        const ptrdiff_t n = P - p0 < 16 ? P - p0 : 16;
        const __mmask16 mask = (__mmask16)((1u << n) - 1u);
        for (ptrdiff_t i = 0; i < 16; i++)
            r[i] = i < n ? _mm512_loadu_ps(tb + (p0 + i) * 16) : _mm512_setzero_ps();
        jc_transpose16_ps(r);
        for (ptrdiff_t c = 0; c < count; c++) {
            /* + bias, or + -0 (x + -0 is x for every x, -0 and NaN included) */
            if (act >= 0)
                r[c] = jc_dw_finish512(r[c], _mm512_set1_ps(bias ? bias[c] : -0.0f), act);
            _mm512_mask_storeu_ps(dst + c * ds + p0, mask, r[c]);
        }
    }
}

/* Lanes [0, n) of an AVX2 mask. */
__attribute__((target("arch=x86-64-v3")))
static inline __m256i jc_dw_mask8(ptrdiff_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("arch=x86-64-v3")))
static void jc_dw_pack_block_f32_avx2(const float *src, ptrdiff_t cs, ptrdiff_t rs,
                                      ptrdiff_t count, ptrdiff_t H, ptrdiff_t W, float *dst,
                                      ptrdiff_t drs)
{
    const int flat = rs == W;
    const ptrdiff_t rows = flat ? 1 : H, len = flat ? H * W : W;
    __m256 r[8];
    for (ptrdiff_t h = 0; h < rows; h++) {
        for (ptrdiff_t q0 = 0; q0 < len; q0 += 8) {
            const ptrdiff_t n = len - q0 < 8 ? len - q0 : 8;
            const __m256i mask = jc_dw_mask8(n);
            for (ptrdiff_t c = 0; c < 8; c++)
                r[c] = c < count ? _mm256_maskload_ps(src + c * cs + h * rs + q0, mask)
                                 : _mm256_setzero_ps();
            jc_transpose8_ps(r);
            for (ptrdiff_t k = 0; k < n; k++) {
                const ptrdiff_t q = q0 + k;
                _mm256_storeu_ps(dst + (flat ? (q / W) * drs + (q % W) * 8 : h * drs + q * 8),
                                 r[k]);
            }
        }
    }
}

__attribute__((target("arch=x86-64-v3")))
static void jc_dw_unpack_block_f32_avx2(const float *tb, ptrdiff_t P, ptrdiff_t count,
                                        float *dst, ptrdiff_t ds, const float *bias, int act)
{
    __m256 r[8];
    for (ptrdiff_t p0 = 0; p0 < P; p0 += 8) {
        const ptrdiff_t n = P - p0 < 8 ? P - p0 : 8;
        const __m256i mask = jc_dw_mask8(n);
        for (ptrdiff_t i = 0; i < 8; i++)
            r[i] = i < n ? _mm256_loadu_ps(tb + (p0 + i) * 8) : _mm256_setzero_ps();
        jc_transpose8_ps(r);
        for (ptrdiff_t c = 0; c < count; c++) {
            if (act >= 0)
                r[c] = jc_dw_finish256(r[c], _mm256_set1_ps(bias ? bias[c] : -0.0f), act);
            _mm256_maskstore_ps(dst + c * ds + p0, mask, r[c]);
        }
    }
}

#else

#define JC_DW_NONE 0
#define JC_DW_RELU 1
#define JC_DW_RELU6 2
#define JC_DW_HARDSWISH 3
static void jc_depthwise_row_f32(const float *base, const ptrdiff_t *offs, const float *w,
                                 ptrdiff_t taps, float *out, ptrdiff_t OW, float bias, int act)
{
    (void)base; (void)offs; (void)w; (void)taps; (void)out; (void)OW; (void)bias; (void)act;
}
#define jc_depthwise_row_f32_avx2 jc_depthwise_row_f32
#define JC_DW_SMALL_MAX_KW 16
static void jc_depthwise_small_f32(const float *x, ptrdiff_t H, ptrdiff_t W, ptrdiff_t xs_row,
                                   const float *w, ptrdiff_t KH, ptrdiff_t KW,
                                   ptrdiff_t sh, ptrdiff_t sw, ptrdiff_t ph, ptrdiff_t pw,
                                   ptrdiff_t dh, ptrdiff_t dw, float *out,
                                   ptrdiff_t OH, ptrdiff_t OW, float bias, int act)
{
    (void)x; (void)H; (void)W; (void)xs_row; (void)w; (void)KH; (void)KW; (void)sh; (void)sw;
    (void)ph; (void)pw; (void)dh; (void)dw; (void)out; (void)OH; (void)OW; (void)bias; (void)act;
}
#define jc_depthwise_small_f32_avx2 jc_depthwise_small_f32
static void jc_dw_even_f32(const float *src, float *dst, ptrdiff_t n)
{
    (void)src; (void)dst; (void)n;
}
static void jc_depthwise_flat_f32(const float *x, ptrdiff_t P, const ptrdiff_t *offs,
                                  const unsigned short *masks, const float *w, ptrdiff_t taps,
                                  float *out, float bias, int act)
{
    (void)x; (void)P; (void)offs; (void)masks; (void)w; (void)taps; (void)out; (void)bias;
    (void)act;
}
#define jc_depthwise_flat_f32_avx2 jc_depthwise_flat_f32
#define JC_DEPTHWISE_BLOCK_C 16
#define JC_DEPTHWISE_BLOCK_C_AVX2 8
static void jc_depthwise_block_f32(const float *xb, ptrdiff_t Wp, const float *wb,
                                   ptrdiff_t KH, ptrdiff_t KW, ptrdiff_t sh, ptrdiff_t sw,
                                   ptrdiff_t dh, ptrdiff_t dw, float *tb,
                                   ptrdiff_t OH, ptrdiff_t OW)
{
    (void)xb; (void)Wp; (void)wb; (void)KH; (void)KW; (void)sh; (void)sw; (void)dh; (void)dw;
    (void)tb; (void)OH; (void)OW;
}
#define jc_depthwise_block_f32_avx2 jc_depthwise_block_f32

#define jc_dw_even_f32_avx2 jc_dw_even_f32
static void jc_dw_pack_block_f32(const float *src, ptrdiff_t cs, ptrdiff_t rs, ptrdiff_t count,
                                 ptrdiff_t H, ptrdiff_t W, float *dst, ptrdiff_t drs)
{
    (void)src; (void)cs; (void)rs; (void)count; (void)H; (void)W; (void)dst; (void)drs;
}
static void jc_dw_unpack_block_f32(const float *tb, ptrdiff_t P, ptrdiff_t count, float *dst,
                                   ptrdiff_t ds, const float *bias, int act)
{
    (void)tb; (void)P; (void)count; (void)dst; (void)ds; (void)bias; (void)act;
}
#define jc_dw_pack_block_f32_avx2 jc_dw_pack_block_f32
#define jc_dw_unpack_block_f32_avx2 jc_dw_unpack_block_f32
#endif
#endif
