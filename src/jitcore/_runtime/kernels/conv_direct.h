/*
 * Direct 3x3 convolution (stride 1, dilation 1) for float32 on AVX-512.
 *
 * im2col + GEMM copies every input pixel nine times and BLAS then packs that
 * copy again; for the small channel counts of a CNN stem that copying costs
 * as much as the arithmetic.  Here the input is read in place from a
 * zero-padded copy of one image, and a register block of 8 output channels x
 * 16 output pixels (eight zmm accumulators) is built by one fused
 * multiply-add per (input channel, tap, output channel): the block is
 * written once, when complete.
 *
 * The caller checks jc_direct3x3_available() (the CPU has AVX-512F) and
 * provides:
 *   xpad   (C, Hp, Wp) float32, C-contiguous: the image with one zero row
 *          above and below and one zero column on the left; Wp >= ceil16(OW)
 *          + 2 with zeros beyond the image, so 16-wide loads never leave it.
 *   wpack  (O / 8, C, 9, 8): the weight regrouped so that the 8 output
 *          channels of a block are contiguous for each (channel, tap).
 *   out    (O, OH, OW) float32, C-contiguous; O a multiple of 8.
 *   bias   NULL or O floats: the accumulators start from it.
 *   relu   nonzero: max(0, .) is applied as the block is stored.
 * (bias and ReLU are the usual conv epilogue; doing them in registers saves
 * a pass over the output.)
 */
#ifndef JITCORE_CONV_DIRECT_H
#define JITCORE_CONV_DIRECT_H

#include <stddef.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define JC_DIRECT3X3_COMPILED 1
#else
#define JC_DIRECT3X3_COMPILED 0
#endif

#define JC_DIRECT3X3_BLOCK_O 8
#define JC_DIRECT3X3_BLOCK_PX 16

static int jc_direct3x3_available(void)
{
#if JC_DIRECT3X3_COMPILED
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

#if JC_DIRECT3X3_COMPILED
#define JC_D3_FMA(k) acc##k = _mm512_fmadd_ps(_mm512_set1_ps(wk[k]), xv, acc##k)
#define JC_D3_STORE(k) _mm512_mask_storeu_ps(dst + (k) * plane, mask, acc##k)
#define JC_D3_RELU(k) \
    acc##k = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(acc##k, zero, _CMP_NLE_UQ), acc##k)

__attribute__((target("avx512f")))
static void jc_direct3x3_f32(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                             const float *wpack, ptrdiff_t O,
                             float *out, ptrdiff_t OH, ptrdiff_t OW,
                             const float *bias, int relu)
{
    const ptrdiff_t plane = OH * OW;
    const __m512 zero = _mm512_setzero_ps();
    for (ptrdiff_t ob = 0; ob < O / JC_DIRECT3X3_BLOCK_O; ob++) {
        const float *wb = wpack + ob * C * 9 * JC_DIRECT3X3_BLOCK_O;
        for (ptrdiff_t oh = 0; oh < OH; oh++) {
            for (ptrdiff_t ow0 = 0; ow0 < OW; ow0 += JC_DIRECT3X3_BLOCK_PX) {
                const float *b = bias + ob * JC_DIRECT3X3_BLOCK_O;
                __m512 acc0 = bias ? _mm512_set1_ps(b[0]) : zero;
                __m512 acc1 = bias ? _mm512_set1_ps(b[1]) : zero;
                __m512 acc2 = bias ? _mm512_set1_ps(b[2]) : zero;
                __m512 acc3 = bias ? _mm512_set1_ps(b[3]) : zero;
                __m512 acc4 = bias ? _mm512_set1_ps(b[4]) : zero;
                __m512 acc5 = bias ? _mm512_set1_ps(b[5]) : zero;
                __m512 acc6 = bias ? _mm512_set1_ps(b[6]) : zero;
                __m512 acc7 = bias ? _mm512_set1_ps(b[7]) : zero;
                const float *wk = wb;
                for (ptrdiff_t c = 0; c < C; c++) {
                    const float *row = xpad + (c * Hp + oh) * Wp + ow0;
                    for (int i = 0; i < 3; i++, row += Wp) {
                        for (int j = 0; j < 3; j++, wk += JC_DIRECT3X3_BLOCK_O) {
                            __m512 xv = _mm512_loadu_ps(row + j);
                            JC_D3_FMA(0); JC_D3_FMA(1); JC_D3_FMA(2); JC_D3_FMA(3);
                            JC_D3_FMA(4); JC_D3_FMA(5); JC_D3_FMA(6); JC_D3_FMA(7);
                        }
                    }
                }
                ptrdiff_t n = OW - ow0 < JC_DIRECT3X3_BLOCK_PX ? OW - ow0 : JC_DIRECT3X3_BLOCK_PX;
                __mmask16 mask = (__mmask16)((1u << n) - 1u);
                float *dst = out + (ob * JC_DIRECT3X3_BLOCK_O * OH + oh) * OW + ow0;
                if (relu) {
                    /* relu_of's rule: keep x where x > 0 or x is NaN, else +0 */
                    JC_D3_RELU(0); JC_D3_RELU(1); JC_D3_RELU(2); JC_D3_RELU(3);
                    JC_D3_RELU(4); JC_D3_RELU(5); JC_D3_RELU(6); JC_D3_RELU(7);
                }
                JC_D3_STORE(0); JC_D3_STORE(1); JC_D3_STORE(2); JC_D3_STORE(3);
                JC_D3_STORE(4); JC_D3_STORE(5); JC_D3_STORE(6); JC_D3_STORE(7);
            }
        }
    }
}
#undef JC_D3_FMA
#undef JC_D3_STORE
#undef JC_D3_RELU
#else
static void jc_direct3x3_f32(const float *xpad, ptrdiff_t C, ptrdiff_t Hp, ptrdiff_t Wp,
                             const float *wpack, ptrdiff_t O,
                             float *out, ptrdiff_t OH, ptrdiff_t OW,
                             const float *bias, int relu)
{
    (void)xpad; (void)C; (void)Hp; (void)Wp; (void)wpack; (void)O; (void)out; (void)OH; (void)OW;
    (void)bias; (void)relu;
}
#endif

#endif /* JITCORE_CONV_DIRECT_H */
