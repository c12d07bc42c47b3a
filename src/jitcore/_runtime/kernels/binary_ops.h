/*
 * The binary elementwise kernels, as one list.
 *
 * JC_BINARY_OPS below gives each kernel its op code (JC_BINARY_<name>,
 * which elementwise.pxd exposes as B_<NAME>), its name in the table
 * elementwise.pyx exports to Python (BINARY_OPS, which the op registry's
 * `kernel=` fields name) and its dtype behaviour, read by the handler and
 * the loop lookup.  The loops themselves are fused-type Cython functions of
 * elementwise.pyx (every op has integer and bool loops with NumPy's
 * wrapping, flooring and nan-propagating semantics), so adding a binary
 * kernel is a line here plus its case in elementwise.pyx's binary_value or
 * binary_predicate and _binary_for.
 *
 *     JC_BINARY(name, ints, result)
 *
 * name    the kernel name (BINARY_OPS key, an OpDef's `kernel`).
 * ints    INTS_AS_FLOAT64: integer and bool operands are computed in float64
 *         (true division, atan2: NumPy has no integer loop); INTS_KEPT: the op
 *         has loops for the integer dtypes (and for bool where NumPy does);
 *         INTS_ONLY: the op has integer and bool loops and no float ones
 *         (the bitwise ops: NumPy has no float loop either).
 * result  SAME_DTYPE: the result has the compute dtype; BOOL_RESULT:
 *         comparisons and logical ops give bool.  The bitwise ops keep the
 *         dtype: an integer result for integers, bool (their logical op) for
 *         bool masks.
 *
 * add, sub, mul, div come first, in that order: vecloops.h indexes its
 * arithmetic loops by codes 0..3.
 */
#ifndef JITCORE_BINARY_OPS_H
#define JITCORE_BINARY_OPS_H

#define JC_BINARY_OPS(JC_BINARY)                                          \
    JC_BINARY(add,          INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(sub,          INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(mul,          INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(div,          INTS_AS_FLOAT64, SAME_DTYPE)                  \
    JC_BINARY(pow,          INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(maximum,      INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(minimum,      INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(remainder,    INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(floor_divide, INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(trunc_divide, INTS_KEPT,       SAME_DTYPE)                  \
    JC_BINARY(atan2,        INTS_AS_FLOAT64, SAME_DTYPE)                  \
    JC_BINARY(eq,           INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(ne,           INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(lt,           INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(le,           INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(gt,           INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(ge,           INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(logical_and,  INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(logical_or,   INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(logical_xor,  INTS_KEPT,       BOOL_RESULT)                 \
    JC_BINARY(bitwise_and,  INTS_ONLY,       SAME_DTYPE)                  \
    JC_BINARY(bitwise_or,   INTS_ONLY,       SAME_DTYPE)                  \
    JC_BINARY(bitwise_xor,  INTS_ONLY,       SAME_DTYPE)

/* ---------------------------------------------------------- generated code */

enum {
#define JC_ENUM(name, ints, result) JC_BINARY_##name,
    JC_BINARY_OPS(JC_ENUM)
    JC_NUM_BINARY_OPS
#undef JC_ENUM
};

_Static_assert(JC_BINARY_add == 0 && JC_BINARY_sub == 1 && JC_BINARY_mul == 2 &&
               JC_BINARY_div == 3, "vecloops.h indexes add, sub, mul, div by 0..3");

#define INTS_KEPT 0
#define INTS_AS_FLOAT64 1
#define INTS_ONLY 2
#define SAME_DTYPE 0
#define BOOL_RESULT 1

static const char *const jc_binary_names[JC_NUM_BINARY_OPS] = {
#define JC_NAME(name, ints, result) #name,
    JC_BINARY_OPS(JC_NAME)
#undef JC_NAME
};
static const unsigned char jc_binary_ints_table[JC_NUM_BINARY_OPS] = {
#define JC_INTS(name, ints, result) ints,
    JC_BINARY_OPS(JC_INTS)
#undef JC_INTS
};
static const unsigned char jc_binary_gives_bool_table[JC_NUM_BINARY_OPS] = {
#define JC_RESULT(name, ints, result) result,
    JC_BINARY_OPS(JC_RESULT)
#undef JC_RESULT
};

#undef SAME_DTYPE
#undef BOOL_RESULT

/* The kernel name of op, for 0 <= op < JC_NUM_BINARY_OPS. */
static inline const char *jc_binary_name(int op) { return jc_binary_names[op]; }

/* Whether integer and bool operands of op are computed in float64. */
static inline int jc_binary_ints_as_float64(int op)
{
    return op >= 0 && op < JC_NUM_BINARY_OPS && jc_binary_ints_table[op] == INTS_AS_FLOAT64;
}

/* Whether op has integer and bool loops only (no float ones). */
static inline int jc_binary_ints_only(int op)
{
    return op >= 0 && op < JC_NUM_BINARY_OPS && jc_binary_ints_table[op] == INTS_ONLY;
}

/* Whether op gives bool whatever its compute dtype. */
static inline int jc_binary_gives_bool(int op)
{
    return op >= 0 && op < JC_NUM_BINARY_OPS && jc_binary_gives_bool_table[op];
}

#undef INTS_KEPT
#undef INTS_AS_FLOAT64
#undef INTS_ONLY

#endif /* JITCORE_BINARY_OPS_H */
