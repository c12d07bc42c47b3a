# The interpreter's tensor: a ``View`` (data, dtype, shape, byte strides --
# the kernel ABI) plus a reference-counted ``Storage`` that owns or borrows
# the memory.  Registers hold ``Tensor`` structs by value, so creating an
# intermediate costs one storage block from the allocator and nothing else.
#
# Ownership rules:
# * A storage made by ``storage_alloc`` owns an allocator block; its header
#   sits in the block's first 64 bytes (one allocation per tensor).
# * A ``STORAGE_PINNED`` header lives in a frame and borrows a call argument
#   (the caller keeps it alive); a ``STORAGE_ARENA`` header lives in a frame
#   and covers one slot of its arena.  Their count reaching 0 frees nothing:
#   the slot is then free for the next instruction planned into it.  An
#   output over arena memory leaves as a copy; one over a pinned argument
#   gets the argument as its base object.
# * A storage made by ``storage_borrow`` keeps a reference to a Python object
#   (the caller's ndarray) alive; it is created with the GIL at call entry and
#   its last reference is dropped with the GIL (the call's exit, or the
#   base object of an output ndarray), so the interpreter's nogil loop never
#   touches a Python reference count.
# * Reference counts are atomic: the storages of a Code's constant tensors are
#   shared by every frame that runs the Code on any thread.
from cpython.ref cimport PyObject
from jitcore._runtime.kernels.view cimport View

cdef enum StorageFlags:
    STORAGE_READONLY = 1     # the memory must not be written (a read-only input)
    STORAGE_CONSTANT = 2     # a Code's constant: outputs aliasing it are copied
    STORAGE_PINNED = 4       # a header inside a frame over a call argument (owner borrowed)
    STORAGE_ARENA = 8        # a header inside a frame over its arena: outputs aliasing it are copied

ctypedef struct Storage:
    Py_ssize_t refcount
    char* data
    size_t nbytes            # usable bytes of an allocator block (0 for borrowed memory)
    PyObject* owner          # the borrowed object, NULL for allocator memory
    int flags

ctypedef struct Tensor:
    View view
    Storage* storage         # NULL only for an empty register

# ---------------------------------------------------------------- storage
cdef Storage* storage_alloc(size_t nbytes) noexcept nogil
cdef Storage* storage_borrow(object owner, char* data, int flags) except NULL
cdef void storage_incref(Storage* s) noexcept nogil
cdef void storage_decref(Storage* s) noexcept nogil

# ----------------------------------------------------------------- tensor
# Memory planning's hook: the next ``tensor_alloc`` on this thread takes
# ``slot`` (an arena header of the running frame) when the slot is free
# (count 0) and large enough, else the allocator serves it as usual.  The
# interpreter sets it before an instruction with a planned output and clears
# it (NULL) afterwards; handlers need not know.
cdef void tensor_place_next(Storage* slot) noexcept nogil
# Allocate a C-contiguous tensor with its data ``phase`` bytes past a 64-byte
# boundary (phase < 64, a multiple of the item size; else 0), unless memory
# planning places it: an output read or written in step with an input that
# sits at that phase (NumPy's large arrays start 16 bytes into a line) then
# has its vector accesses line-aligned wherever the input's are.
# JC_OK or JC_ERR_OOM / JC_ERR_SHAPE.
cdef int tensor_alloc_phase(Tensor* t, int dtype, int ndim, const Py_ssize_t* shape,
                            size_t phase) noexcept nogil
# The same at phase 0: the data on a 64-byte boundary.
cdef inline int tensor_alloc(Tensor* t, int dtype, int ndim, const Py_ssize_t* shape) noexcept nogil:
    return tensor_alloc_phase(t, dtype, ndim, shape, 0)
# Allocate a C-contiguous tensor with the shape of ``like`` and ``dtype``.
cdef int tensor_alloc_like(Tensor* t, const View* like, int dtype) noexcept nogil
# ``dst`` becomes another reference to ``src``'s storage with the same view.
cdef void tensor_share(Tensor* dst, const Tensor* src) noexcept nogil
cdef void tensor_release(Tensor* t) noexcept nogil
# Copy the elements of ``src`` into ``dst`` (same dtype, same shape; any strides).
cdef int view_copy(const View* src, View* dst) noexcept nogil
# ``dst`` = a C-contiguous tensor equal to ``src`` (shares it if already contiguous).
cdef int tensor_contiguous(Tensor* dst, const Tensor* src) noexcept nogil

# ------------------------------------------------------ Python boundaries
# The call fast path: pin an ndarray (or subclass) into a header the frame owns
# (``STORAGE_PINNED``: no malloc, no incref; the caller keeps the array alive
# for the call and the header's count returns to 0 when the frame is
# released).  Returns 0, or -1 when the array needs ``tensor_from_object``
# (an unsupported dtype, byte-swapped or unaligned memory, rank > MAX_DIMS).
cdef int tensor_pin_array(Tensor* t, Storage* header, PyObject* arr) noexcept

# Pin an input: ndarray / __array_interface__ / buffer-protocol object ->
# Tensor.  Returns 1 when a copy was needed (big-endian, unaligned), else 0.
cdef int tensor_from_object(Tensor* t, object obj, str what) except -1
# An ndarray over the tensor's memory (no copy; its base owns a storage
# reference).  A constant's storage is copied so callers cannot edit a model.
cdef object tensor_to_array(const Tensor* t)
