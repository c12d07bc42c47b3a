"""C tensors over reference-counted storage, and the ndarray boundary.

Inputs enter without a copy when they are aligned, native-endian arrays of a
supported dtype, whatever their strides (the kernels are strided); read-only
arrays are borrowed too, since the interpreter never writes into an input.
The one documented copy at entry is for byte-swapped or unaligned memory,
which no kernel can read directly.  Outputs leave as ndarrays whose base
object (a :class:`StorageHandle`) owns a reference to the storage.
"""

cimport cython
cimport numpy as cnp
from cpython.object cimport PyTypeObject
from cpython.ref cimport PyObject, Py_INCREF, Py_DECREF
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

from jitcore._runtime.allocator cimport jc_alloc, jc_free
from jitcore._runtime.kernels.view cimport (
    View, MAX_DIMS, JC_OK, JC_ERR_OOM, JC_ERR_SHAPE, JC_ERR_DTYPE, JC_ERR_VALUE,
    DT_FLOAT32, DT_FLOAT64, DT_INT64, DT_INT32, DT_BOOL, itemsize_of, view_numel,
    view_is_contiguous, set_contiguous_strides,
)
from jitcore._runtime.kernels.broadcast cimport (
    StridedPlan, plan_start, plan_add, plan_finish, plan_numel, plan_pointers_at,
)

import numpy as np

cnp.import_array()

cdef extern from *:
    """
    #define jc_atomic_inc(p) __atomic_add_fetch((p), 1, __ATOMIC_RELAXED)
    #define jc_atomic_dec(p) __atomic_sub_fetch((p), 1, __ATOMIC_ACQ_REL)
    """
    Py_ssize_t jc_atomic_inc(Py_ssize_t* p) noexcept nogil
    Py_ssize_t jc_atomic_dec(Py_ssize_t* p) noexcept nogil

cdef extern from *:
    """
    /* The arena slot the next allocation of this thread may take (memory planning). */
    static __thread void* jc_next_slot __attribute__((tls_model("initial-exec"))) = NULL;
    """
    void* jc_next_slot

# NumPy type numbers of the DType codes, in code order.
cdef int[5] _NPY_TYPES
_NPY_TYPES[:] = [cnp.NPY_FLOAT32, cnp.NPY_FLOAT64, cnp.NPY_INT64, cnp.NPY_INT32, cnp.NPY_BOOL]



# ------------------------------------------------------------------ storage

# An allocator storage keeps its header in the first line of its own block:
# one allocation per tensor, not a malloc for the header plus a block.
cdef enum:
    HEADER_BYTES = 64       # sizeof(Storage) rounded up to the allocator's alignment


cdef Storage* storage_alloc(size_t nbytes) noexcept nogil:
    cdef char* block = <char*>jc_alloc(nbytes + HEADER_BYTES)
    cdef Storage* s
    if block == NULL:
        return NULL
    s = <Storage*>block
    s.data = block + HEADER_BYTES
    s.refcount = 1
    s.nbytes = nbytes
    s.owner = NULL
    s.flags = 0
    return s


cdef Storage* storage_borrow(object owner, char* data, int flags) except NULL:
    cdef Storage* s = <Storage*>malloc(sizeof(Storage))
    if s == NULL:
        raise MemoryError("cannot allocate a tensor storage header")
    Py_INCREF(owner)
    s.owner = <PyObject*>owner
    s.refcount = 1
    s.data = data
    s.nbytes = 0
    s.flags = flags
    return s


cdef void storage_incref(Storage* s) noexcept nogil:
    if s != NULL:
        jc_atomic_inc(&s.refcount)


cdef void storage_decref(Storage* s) noexcept nogil:
    if s == NULL or jc_atomic_dec(&s.refcount) != 0:
        return
    if s.flags & (STORAGE_PINNED | STORAGE_ARENA):
        # a header inside a frame: the frame owns it (and the argument is the caller's)
        return
    if s.owner != NULL:
        # Only reached where the GIL is already held (call exit, an output's
        # base object dying); ``with gil`` is then a cheap re-entry.
        with gil:
            Py_DECREF(<object>s.owner)
        free(s)
    else:
        jc_free(<void*>s, s.nbytes + HEADER_BYTES)


# ------------------------------------------------------------------ tensors

cdef void tensor_place_next(Storage* slot) noexcept nogil:
    global jc_next_slot
    jc_next_slot = <void*>slot


cdef int tensor_alloc_phase(Tensor* t, int dtype, int ndim, const Py_ssize_t* shape,
                            size_t phase) noexcept nogil:
    global jc_next_slot
    cdef Py_ssize_t numel = 1
    cdef size_t nbytes
    cdef Storage* slot
    cdef int i
    if ndim < 0 or ndim > MAX_DIMS:
        return JC_ERR_SHAPE
    for i in range(ndim):
        if shape[i] < 0:
            return JC_ERR_VALUE
        t.view.shape[i] = shape[i]
        numel *= shape[i]
    t.view.ndim = ndim
    t.view.dtype = dtype
    nbytes = <size_t>(numel * itemsize_of(dtype))
    slot = <Storage*>jc_next_slot
    if slot != NULL:
        # one planned placement per instruction: a second allocation in the
        # same handler (its output after a temporary) goes to the allocator
        jc_next_slot = NULL
        if slot.refcount == 0 and nbytes <= slot.nbytes:
            slot.refcount = 1
            t.storage = slot
            t.view.data = slot.data
            set_contiguous_strides(&t.view)
            return JC_OK
    if phase >= 64 or phase % itemsize_of(dtype) != 0:
        phase = 0
    t.storage = storage_alloc(nbytes + phase)
    if t.storage == NULL:
        return JC_ERR_OOM
    t.view.data = t.storage.data + phase
    set_contiguous_strides(&t.view)
    return JC_OK


cdef int tensor_alloc_like(Tensor* t, const View* like, int dtype) noexcept nogil:
    return tensor_alloc(t, dtype, like.ndim, like.shape)


cdef void tensor_share(Tensor* dst, const Tensor* src) noexcept nogil:
    dst[0] = src[0]
    storage_incref(src.storage)


cdef void tensor_release(Tensor* t) noexcept nogil:
    if t.storage != NULL:
        storage_decref(t.storage)
        t.storage = NULL


cdef int view_copy(const View* src, View* dst) noexcept nogil:
    cdef StridedPlan plan
    cdef Py_ssize_t n, i, inner, item
    cdef char* ptrs[2]
    cdef int status
    if src.dtype != dst.dtype:
        return JC_ERR_DTYPE
    if view_is_contiguous(src) and view_is_contiguous(dst) and view_numel(src) == view_numel(dst):
        memcpy(dst.data, src.data, view_numel(src) * itemsize_of(src.dtype))
        return JC_OK
    status = plan_start(&plan, dst)
    if status == JC_OK:
        status = plan_add(&plan, src)
    if status != JC_OK:
        return status
    plan_finish(&plan)
    n = plan_numel(&plan)
    if n == 0:
        return JC_OK
    item = itemsize_of(src.dtype)
    inner = plan.shape[plan.ndim - 1]
    # Walk the outer dims one inner row at a time; the inner loop copies
    # item-sized elements with their own strides.
    i = 0
    while i < n:
        plan_pointers_at(&plan, i, ptrs)
        _copy_row(ptrs[1], plan.strides[1][plan.ndim - 1], ptrs[0],
                  plan.strides[0][plan.ndim - 1], inner, item)
        i += inner
    return JC_OK


cdef inline void _copy_row(const char* src, Py_ssize_t ss, char* dst, Py_ssize_t ds,
                           Py_ssize_t n, Py_ssize_t item) noexcept nogil:
    cdef Py_ssize_t j
    if ss == item and ds == item:
        memcpy(dst, src, n * item)
    elif item == 8:
        for j in range(n):
            (<long long*>(dst + j * ds))[0] = (<const long long*>(src + j * ss))[0]
    elif item == 4:
        for j in range(n):
            (<int*>(dst + j * ds))[0] = (<const int*>(src + j * ss))[0]
    else:
        for j in range(n):
            dst[j * ds] = src[j * ss]


cdef int tensor_contiguous(Tensor* dst, const Tensor* src) noexcept nogil:
    cdef int status
    if view_is_contiguous(&src.view):
        tensor_share(dst, src)
        return JC_OK
    status = tensor_alloc_like(dst, &src.view, src.view.dtype)
    if status != JC_OK:
        return status
    status = view_copy(&src.view, &dst.view)
    if status != JC_OK:
        tensor_release(dst)
    return status


# ------------------------------------------------------- Python boundaries

# NumPy type number -> DType code (-1: unsupported), for the call fast path.
cdef enum:
    NUM_NPY_TYPES = 24
cdef int _CODE_OF_TYPE[NUM_NPY_TYPES]


cdef inline int _dtype_code_of(cnp.ndarray arr) noexcept:
    """The DType code of a native-endian array's dtype, -1 if unsupported."""
    cdef int t = cnp.PyArray_TYPE(arr)
    if t == cnp.NPY_FLOAT32:
        return DT_FLOAT32
    if t == cnp.NPY_FLOAT64:
        return DT_FLOAT64
    if t == cnp.NPY_INT64 or (t == cnp.NPY_LONGLONG and sizeof(long long) == 8):
        return DT_INT64
    if t == cnp.NPY_INT32 or (t == cnp.NPY_INT and sizeof(int) == 4):
        return DT_INT32
    if t == cnp.NPY_BOOL:
        return DT_BOOL
    return -1


cdef int tensor_from_object(Tensor* t, object obj, str what) except -1:
    cdef cnp.ndarray arr
    cdef int copied = 0
    cdef int i, flags, code
    if isinstance(obj, cnp.ndarray):
        arr = <cnp.ndarray>obj
    else:
        try:
            arr = np.asarray(obj)
        except Exception as e:
            raise TypeError(f"{what}: expected an ndarray (or an object with "
                            f"__array_interface__ / the buffer protocol), got "
                            f"{type(obj).__name__}") from e
    if not cnp.PyArray_ISNOTSWAPPED(arr):
        # Kernels read native-endian numbers: one copy, byte-swapped.
        arr = arr.astype(arr.dtype.newbyteorder("="))
        copied = 1
    code = _dtype_code_of(arr)
    if code < 0:
        raise TypeError(f"{what}: unsupported dtype {arr.dtype}; jitcore supports float32, "
                        "float64, int64, int32 and bool")
    if arr.ndim > MAX_DIMS:
        raise ValueError(f"{what}: arrays of rank > {MAX_DIMS} are not supported, got rank {arr.ndim}")
    if not cnp.PyArray_ISALIGNED(arr):
        # Kernels load whole elements: one aligned copy.
        arr = np.array(arr, order="C", copy=True)
        copied = 1
    flags = 0 if cnp.PyArray_ISWRITEABLE(arr) else STORAGE_READONLY
    t.storage = storage_borrow(arr, <char*>cnp.PyArray_DATA(arr), flags)
    t.view.data = <char*>cnp.PyArray_DATA(arr)
    t.view.dtype = code
    t.view.ndim = cnp.PyArray_NDIM(arr)
    for i in range(t.view.ndim):
        t.view.shape[i] = cnp.PyArray_DIMS(arr)[i]
        t.view.strides[i] = cnp.PyArray_STRIDES(arr)[i]
    return copied


@cython.freelist(64)
cdef class StorageHandle:
    """The base object of an output ndarray: one reference to a tensor storage."""

    cdef Storage* storage

    def __dealloc__(self):
        storage_decref(self.storage)
        self.storage = NULL

    @property
    def nbytes(self):
        """Size of the allocator block behind the array (0 for borrowed memory)."""
        return self.storage.nbytes if self.storage != NULL else 0


cdef extern from "numpy/arrayobject.h":
    # Declared here with raw pointers: NewFromDescr steals ``descr``, SetBaseObject ``base``.
    PyObject* PyArray_NewFromDescr(PyTypeObject* subtype, PyObject* descr, int nd,
                                   cnp.npy_intp* dims, cnp.npy_intp* strides, void* data,
                                   int flags, PyObject* obj) except NULL
    int PyArray_SetBaseObject(PyObject* arr, PyObject* base) except -1
    PyTypeObject PyArray_Type

# The dtype object of each DType code, made once (an output needs one per call).
cdef PyObject* _DESCRS[5]
_descr_objects = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64),
                  np.dtype(np.int32), np.dtype(np.bool_)]
for _k in range(5):
    _DESCRS[_k] = <PyObject*>_descr_objects[_k]


cdef object tensor_to_array(const Tensor* t):
    cdef Tensor copy
    cdef int i, status
    cdef int flags = cnp.NPY_ARRAY_WRITEABLE
    cdef StorageHandle handle
    cdef PyObject* base
    cdef PyObject* arr
    if t.storage == NULL:
        raise RuntimeError("internal error: converting an empty tensor register")
    if t.storage.flags & (STORAGE_CONSTANT | STORAGE_ARENA):
        # A model's constant must not be editable through an output, and a
        # frame's arena is overwritten by the next call: both leave as a copy.
        status = tensor_alloc_like(&copy, &t.view, t.view.dtype)
        if status != JC_OK:
            raise MemoryError("cannot allocate an output tensor")
        view_copy(&t.view, &copy.view)
        try:
            return tensor_to_array(&copy)
        finally:
            tensor_release(&copy)
    if t.storage.flags & STORAGE_READONLY:
        flags = 0
    if t.storage.flags & STORAGE_PINNED:
        # a view of a call argument: the argument itself keeps the memory alive
        base = t.storage.owner
        Py_INCREF(<object>base)
    else:
        handle = StorageHandle.__new__(StorageHandle)
        storage_incref(t.storage)
        handle.storage = t.storage
        base = <PyObject*>handle
        Py_INCREF(handle)
    Py_INCREF(<object>_DESCRS[t.view.dtype])
    try:
        arr = PyArray_NewFromDescr(&PyArray_Type, _DESCRS[t.view.dtype], t.view.ndim,
                                   <cnp.npy_intp*>t.view.shape, <cnp.npy_intp*>t.view.strides,
                                   t.view.data, flags, NULL)
    except BaseException:
        Py_DECREF(<object>base)
        raise
    result = <object>arr
    Py_DECREF(result)           # ``result`` holds the reference NewFromDescr returned
    PyArray_SetBaseObject(arr, base)
    return result


cdef int tensor_pin_array(Tensor* t, Storage* header, PyObject* arr) noexcept:
    cdef int code, type_num, i, ndim
    cdef int array_flags = cnp.PyArray_FLAGS(<cnp.ndarray>arr)
    type_num = cnp.PyArray_TYPE(<cnp.ndarray>arr)
    code = _CODE_OF_TYPE[type_num] if 0 <= type_num < NUM_NPY_TYPES else -1
    ndim = cnp.PyArray_NDIM(<cnp.ndarray>arr)
    if (code < 0 or ndim > MAX_DIMS or not (array_flags & cnp.NPY_ARRAY_ALIGNED)
            or not cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>arr)):
        return -1
    header.refcount = 1
    header.data = <char*>cnp.PyArray_DATA(<cnp.ndarray>arr)
    header.nbytes = 0
    header.owner = arr
    header.flags = STORAGE_PINNED | (0 if array_flags & cnp.NPY_ARRAY_WRITEABLE else STORAGE_READONLY)
    t.storage = header
    t.view.data = header.data
    t.view.dtype = code
    t.view.ndim = ndim
    for i in range(ndim):
        t.view.shape[i] = cnp.PyArray_DIMS(<cnp.ndarray>arr)[i]
        t.view.strides[i] = cnp.PyArray_STRIDES(<cnp.ndarray>arr)[i]
    return 0


def _fill_type_table():
    cdef int k
    for k in range(NUM_NPY_TYPES):
        _CODE_OF_TYPE[k] = -1
    # every spelling NumPy has for jitcore's five dtypes (np.int_ and np.longlong may differ)
    for t in (np.float32, np.float64, np.int64, np.int32, np.bool_, np.longlong, np.intc, np.int_):
        k = np.dtype(t).num
        _CODE_OF_TYPE[k] = _dtype_code_of(np.empty(0, dtype=t))


_fill_type_table()


def round_trip(obj):
    """Pin ``obj`` as a tensor and wrap it back as an ndarray (for tests).

    Returns
    -------
    (ndarray, bool)
        The array and whether entry needed a copy.
    """
    cdef Tensor t
    copied = tensor_from_object(&t, obj, "input")
    try:
        return tensor_to_array(&t), bool(copied)
    finally:
        tensor_release(&t)


def contiguous_copy(obj):
    """A C-contiguous copy of ``obj`` made by the strided copy (for tests)."""
    cdef Tensor t, out
    cdef int status
    tensor_from_object(&t, obj, "input")
    status = tensor_alloc_like(&out, &t.view, t.view.dtype)
    if status == JC_OK:
        status = view_copy(&t.view, &out.view)
    tensor_release(&t)
    if status != JC_OK:
        tensor_release(&out)
        raise RuntimeError(f"strided copy failed with status {status}")
    try:
        return tensor_to_array(&out)
    finally:
        tensor_release(&out)


def pinned_view(cnp.ndarray arr not None):
    """Pin ``arr`` as a compiled call does and wrap it back (for tests).

    Returns
    -------
    ndarray or None
        A view whose base is ``arr`` itself, or None when ``arr`` needs the
        general path (``tensor_from_object``).
    """
    cdef Storage header
    cdef Tensor t
    if tensor_pin_array(&t, &header, <PyObject*>arr) != 0:
        return None
    try:
        return tensor_to_array(&t)
    finally:
        tensor_release(&t)      # the header's count returns to 0; it owns nothing
