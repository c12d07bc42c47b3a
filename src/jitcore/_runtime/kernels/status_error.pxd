# Turning a kernel ``Status`` into a Python exception.  Kernels run without
# the GIL and only return a code; whoever calls them with the GIL held (the
# thin ``def`` wrappers of each kernel module, the interpreter) raises through
# here so every failure reads the same way.
from jitcore._runtime.kernels.view cimport (
    JC_OK, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_OOM, JC_ERR_INDEX, JC_ERR_VALUE,
    JC_ERR_OVERFLOW, JC_ERR_UNSUPPORTED,
)


cdef inline str status_reason(int status):
    """A short human description of a non-OK status code."""
    if status == JC_ERR_SHAPE:
        return "incompatible shapes"
    if status == JC_ERR_DTYPE:
        return "unsupported or mismatched dtypes"
    if status == JC_ERR_OOM:
        return "out of memory"
    if status == JC_ERR_INDEX:
        return "index out of range"
    if status == JC_ERR_VALUE:
        return "invalid argument value"
    if status == JC_ERR_OVERFLOW:
        return "a size does not fit BLAS's 32-bit int"
    if status == JC_ERR_UNSUPPORTED:
        return "unsupported argument combination"
    return f"unknown status {status}"


cdef inline int raise_for_status(int status, str op, str detail) except -1:
    """Raise for a non-OK ``status`` of kernel ``op``; ``detail`` names the operands.

    ``MemoryError`` for allocation failures, ``jitcore.KernelError`` otherwise.
    """
    if status == JC_OK:
        return 0
    message = f"{op}: {status_reason(status)}"
    if detail:
        message += f" ({detail})"
    if status == JC_ERR_OOM:
        raise MemoryError(message)
    from jitcore.errors import KernelError
    raise KernelError(message)
