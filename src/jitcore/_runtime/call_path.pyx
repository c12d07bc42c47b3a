"""The per-call path of compiled functions and methods: signature check, plan lookup, run.

A :class:`Plan` is one lowered program plus the input signature it was built
for (per argument: dtype, rank and, for a specialised plan, the shape) and the
module attributes it reads (each fetched from its owner's dict at call time,
so ``load_state_dict`` or reassigning a parameter after compiling takes
effect).  A :class:`Dispatcher` keeps the plans of one method.  A call
compares its arguments with the last plan's signature in C (no Python
objects are created for that), borrows a frame, runs without the GIL and
wraps the outputs; only a call whose signature differs from the last plan's
goes to the Python slow path (``Dispatcher.builder``), which validates the
arguments, looks the signature up in the cache and builds a plan on a miss.

Thread safety: ``Dispatcher.lock`` guards only mutations of the plan cache;
calls never hold it while running, and every run has its own frame.
"""

cimport cython
cimport numpy as cnp
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject_GetAttr
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.stdlib cimport calloc, free

from jitcore._runtime.code cimport Code
from jitcore._runtime.interpreter cimport run_code
from jitcore._runtime.kernels.view cimport MAX_DIMS

import threading

cnp.import_array()

cdef extern from "Python.h":
    bint PyLong_CheckExact(PyObject*)
    bint PyFloat_CheckExact(PyObject*)
    bint PyBool_Check(PyObject*)
    PyObject* Py_None

cdef extern from "numpy/arrayobject.h":
    bint PyArray_Check(PyObject*)
    bint PyArray_CheckExact(PyObject*)
    int PyArray_TYPE(PyObject*)
    int PyArray_NDIM(PyObject*)
    cnp.npy_intp* PyArray_DIMS(PyObject*)

__all__ = ["Plan", "Dispatcher", "SLOT_KINDS", "script_module_call", "script_function_call",
           "array_semantics"]

# Attributes read without a heap buffer (a frame's stack array).
DEF STACK_ATTRIBUTES = 32

# What ``Dispatcher.call_fast`` returns when the call does not fit the last plan.
cdef object _MISS = object()

cdef enum SlotKind:
    SLOT_ANY = 0        # not checked here (lists, tuples, objects): ops check what they read
    SLOT_TENSOR         # an ndarray of ``type_num`` and ``ndim`` (and ``shape`` if exact)
    SLOT_INT            # a Python int (not bool)
    SLOT_FLOAT          # a Python float or int
    SLOT_BOOL
    SLOT_NUMBER         # int, float or bool
    SLOT_NONE

#: name -> SlotKind code, for the Python side that builds signatures.
SLOT_KINDS = {"any": SLOT_ANY, "tensor": SLOT_TENSOR, "int": SLOT_INT, "float": SLOT_FLOAT,
              "bool": SLOT_BOOL, "number": SLOT_NUMBER, "none": SLOT_NONE}

cdef struct Slot:
    int kind
    int type_num
    int ndim
    bint exact_shape
    Py_ssize_t shape[MAX_DIMS]


# ------------------------------------------------- ndarray subclasses with semantics

import numpy as np

# type -> what compiled code would drop (a str), or None for a plain subclass
cdef dict _SEMANTICS = {}

# Operations whose override means the subclass computes differently from an ndarray.
_OVERRIDES = ("__array_ufunc__", "__array_function__", "__mul__", "__matmul__", "__add__",
              "__pow__")


def array_semantics(cls):
    """What compiled code would lose of an ndarray subclass ``cls``, or None if nothing.

    A masked array's mask, a matrix's ``*``/``**``, a subclass overriding NumPy's
    operations (units, lazy arrays): compiled code sees only the data, so such
    arguments are refused with a ``TypeError`` rather than silently computed as
    plain arrays.  Plain subclasses (``jitcore.nn.Parameter``, ``np.memmap``, a
    ``class A(np.ndarray): pass``) are ndarrays.  Cached per type.
    """
    try:
        return _SEMANTICS[cls]
    except KeyError:
        pass
    if issubclass(cls, np.ma.MaskedArray):
        reason = "its mask"
    elif issubclass(cls, np.matrix):
        reason = "its matrix semantics (* and ** are matrix products)"
    elif any(getattr(cls, name, None) is not getattr(np.ndarray, name) for name in _OVERRIDES):
        reason = "the operations it overrides"
    else:
        reason = None
    _SEMANTICS[cls] = reason
    return reason


cdef inline bint is_plain_array(PyObject* o) noexcept:
    """An ndarray whose data is all there is to it (exact ndarrays cost one compare)."""
    cdef PyObject* reason
    if PyArray_CheckExact(o):
        return True
    if not PyArray_Check(o):
        return False
    reason = PyDict_GetItem(_SEMANTICS, type(<object>o))
    if reason != NULL:
        return reason == Py_None
    try:
        return array_semantics(type(<object>o)) is None
    except BaseException:
        return False


cdef inline bint slot_matches(const Slot* s, PyObject* o) noexcept:
    cdef int k
    cdef cnp.npy_intp* dims
    if s.kind == SLOT_TENSOR:
        if not PyArray_Check(o) or PyArray_TYPE(o) != s.type_num or PyArray_NDIM(o) != s.ndim:
            return False
        if s.exact_shape:
            dims = PyArray_DIMS(o)
            for k in range(s.ndim):
                if dims[k] != s.shape[k]:
                    return False
        return True
    if s.kind == SLOT_INT:
        return PyLong_CheckExact(o)
    if s.kind == SLOT_FLOAT:
        return PyFloat_CheckExact(o) or PyLong_CheckExact(o)
    if s.kind == SLOT_BOOL:
        return PyBool_Check(o)
    if s.kind == SLOT_NUMBER:
        return PyFloat_CheckExact(o) or PyLong_CheckExact(o) or PyBool_Check(o)
    if s.kind == SLOT_NONE:
        return o == Py_None
    return True


cdef inline bint argument_matches(const Slot* s, PyObject* o) noexcept:
    """``slot_matches`` for a call argument: an ndarray subclass with semantics of its
    own (a masked array) is a miss, so the slow path's validation explains it."""
    if not slot_matches(s, o):
        return False
    return s.kind != SLOT_TENSOR or is_plain_array(o)


@cython.final
cdef class Plan:
    """One executable program for one input signature.

    Parameters
    ----------
    graph : Graph
        The graph the program was lowered from (what ``graph_for`` shows).
    code : Code or None
        The lowered program; None when ``reference`` runs the graph instead.
    slots : sequence of (kind, type_num, ndim, shape or None)
        The signature: one entry per argument, then one per attribute.
        ``kind`` is a :data:`SLOT_KINDS` code; ``shape`` None accepts any
        size of that rank.
    attributes : sequence of (container, key)
        Module attributes passed after the arguments: ``container[key]``
        when ``container`` is a dict, else ``getattr(container, key)``.
    reference : callable, optional
        ``reference(args, attribute_values)`` for a plan that falls back to
        the reference interpreter (``code`` None).
    fallback_reason : str, optional
    specialised : bool
        Whether the signature fixes shapes (else it is the dynamic-shape plan).
    """

    cdef readonly object graph
    cdef readonly Code code
    cdef readonly object fallback_reason
    cdef readonly bint specialised
    cdef object reference
    cdef Slot* slots
    cdef int n_slots
    cdef int n_args
    cdef int n_attributes
    cdef PyObject** containers      # borrowed from ``_attributes``
    cdef PyObject** keys
    cdef bint* container_is_dict
    cdef tuple _attributes
    cdef bint typed_args            # no argument slot is SLOT_ANY (a match proves no traced value)

    def __cinit__(self, graph, code, slots, attributes, n_args, reference=None,
                  fallback_reason=None, specialised=True):
        cdef int k, d
        self.graph = graph
        self.code = code
        self.reference = reference
        self.fallback_reason = fallback_reason
        self.specialised = specialised
        self.n_args = n_args
        self.n_slots = len(slots)
        self._attributes = tuple(attributes)
        self.n_attributes = len(self._attributes)
        if self.n_slots != self.n_args + self.n_attributes:
            raise ValueError(f"a plan needs one slot per argument and attribute: {self.n_slots} "
                             f"slots for {self.n_args} arguments and {self.n_attributes} attributes")
        if code is None and reference is None:
            raise ValueError("a plan needs a Code or a reference runner")
        self.slots = <Slot*>calloc(self.n_slots + 1, sizeof(Slot))
        self.containers = <PyObject**>calloc(self.n_attributes + 1, sizeof(PyObject*))
        self.keys = <PyObject**>calloc(self.n_attributes + 1, sizeof(PyObject*))
        self.container_is_dict = <bint*>calloc(self.n_attributes + 1, sizeof(bint))
        if (self.slots == NULL or self.containers == NULL or self.keys == NULL
                or self.container_is_dict == NULL):
            raise MemoryError
        for k, (kind, type_num, ndim, shape) in enumerate(slots):
            self.slots[k].kind = kind
            self.slots[k].type_num = type_num
            self.slots[k].ndim = ndim
            self.slots[k].exact_shape = shape is not None
            if shape is not None:
                if len(shape) != ndim or ndim > MAX_DIMS:
                    raise ValueError(f"slot {k}: shape {shape} does not have rank {ndim}")
                for d in range(ndim):
                    self.slots[k].shape[d] = shape[d]
        self.typed_args = all(self.slots[k].kind != SLOT_ANY for k in range(self.n_args))
        for k, (container, key) in enumerate(self._attributes):
            self.containers[k] = <PyObject*>container
            self.keys[k] = <PyObject*>key
            self.container_is_dict[k] = isinstance(container, dict)

    def __dealloc__(self):
        free(self.slots)
        free(self.containers)
        free(self.keys)
        free(self.container_is_dict)

    @property
    def n_attributes(self):
        return self.n_attributes

    def attribute_values(self):
        """The current values of the plan's attributes (a list)."""
        values = []
        for container, key in self._attributes:
            values.append(container[key] if isinstance(container, dict) else getattr(container, key))
        return values

    def matches(self, args):
        """Whether ``args`` (and the current attributes) fit this plan's signature."""
        args = tuple(args)
        if len(args) != self.n_args:
            return False
        values = self.attribute_values()
        for k in range(self.n_args):
            if not argument_matches(&self.slots[k], <PyObject*>args[k]):
                return False
        for k in range(self.n_attributes):
            if not slot_matches(&self.slots[self.n_args + k], <PyObject*>values[k]):
                return False
        return True

    def run(self, args):
        """Run the plan on ``args`` (already validated) and the current attributes."""
        args = tuple(args)
        values = self.attribute_values()
        if self.code is None:
            return self.reference(args, values)
        return _run_with(self, args, values)

    def __repr__(self):
        how = "interpreter" if self.code is not None else "reference fallback"
        kind = "specialised" if self.specialised else "dynamic-shape"
        return f"<Plan {kind}, {self.n_args} args + {self.n_attributes} attributes, {how}>"


cdef object _run_with(Plan plan, tuple args, list values):
    # ``values`` holds the references; ``buf`` only borrows them.
    cdef PyObject* stack[STACK_ATTRIBUTES]
    cdef PyObject** buf = stack
    cdef Py_ssize_t k, n = len(values)
    if n > STACK_ATTRIBUTES:
        buf = <PyObject**>calloc(n, sizeof(PyObject*))
        if buf == NULL:
            raise MemoryError
    try:
        for k in range(n):
            buf[k] = <PyObject*>values[k]
        return run_code(plan.code, args, buf, n)
    finally:
        if buf != stack:
            free(buf)


cdef int _fetch(Plan plan, PyObject** out) except -1:
    """New references to the plan's attribute values in ``out``."""
    cdef int k, j
    cdef PyObject* v
    cdef object value
    for k in range(plan.n_attributes):
        if plan.container_is_dict[k]:
            v = PyDict_GetItem(<object>plan.containers[k], <object>plan.keys[k])
            if v == NULL:
                for j in range(k):
                    Py_XDECREF(out[j])
                raise AttributeError(f"the module attribute {<object>plan.keys[k]!r} used by the "
                                     "compiled code no longer exists")
            Py_INCREF(<object>v)
            out[k] = v
        else:
            try:
                value = getattr(<object>plan.containers[k], <object>plan.keys[k])
            except BaseException:
                for j in range(k):
                    Py_XDECREF(out[j])
                raise
            Py_INCREF(value)
            out[k] = <PyObject*>value
    return 0


cdef object _try_plan(Plan plan, tuple args, bint typed_only):
    """Run ``plan`` if ``args`` and the current attributes fit its signature, else ``_MISS``."""
    cdef PyObject* stack[STACK_ATTRIBUTES]
    cdef PyObject** attrs = stack
    cdef int k, n_attr
    cdef bint fits
    if plan.code is None or PyTuple_GET_SIZE(args) != plan.n_args:
        return _MISS
    if typed_only and not plan.typed_args:
        return _MISS
    for k in range(plan.n_args):
        if not argument_matches(&plan.slots[k], PyTuple_GET_ITEM(args, k)):
            return _MISS
    n_attr = plan.n_attributes
    if n_attr == 0:
        return run_code(plan.code, args, NULL, 0)
    if n_attr > STACK_ATTRIBUTES:
        attrs = <PyObject**>calloc(n_attr, sizeof(PyObject*))
        if attrs == NULL:
            raise MemoryError
    try:
        _fetch(plan, attrs)
        try:
            fits = True
            for k in range(n_attr):
                if not slot_matches(&plan.slots[plan.n_args + k], attrs[k]):
                    fits = False
                    break
            if fits:
                return run_code(plan.code, args, attrs, n_attr)
        finally:
            for k in range(n_attr):
                Py_XDECREF(attrs[k])
    finally:
        if attrs != stack:
            free(attrs)
    return _MISS


@cython.final
cdef class Dispatcher:
    """Calls one compiled function or method: the last plan's fast path, else ``builder``.

    Parameters
    ----------
    n_args : int
        How many arguments a call takes.
    builder : callable
        ``builder(args) -> (plan, args)``: the slow path.  It validates
        ``args`` (raising a clear error), may convert them (array-likes to
        ndarrays), finds or builds the plan for their signature and returns
        both.  It owns the plan cache; :attr:`lock` is for it.
    name : str
        The function name used in error messages.
    """

    cdef readonly int n_args
    cdef readonly object builder
    cdef readonly object lock
    cdef readonly str name
    cdef Plan last
    cdef tuple plans                # every cached plan, specialised first: replaced, never mutated
    cdef readonly Py_ssize_t slow_calls     # calls that no cached plan served (validation, building)
    # A NamedTuple class the (tuple) result is made into, as the function's return
    # annotation says; None leaves results as the program made them.
    cdef public object result_class

    def __cinit__(self, int n_args, builder, str name="forward"):
        self.n_args = n_args
        self.builder = builder
        self.name = name
        self.lock = threading.Lock()
        self.last = None
        self.plans = ()

    def publish(self, plans):
        """Make ``plans`` (specialised first, then dynamic-shape) the ones a call scans.

        The cache owner calls this after each insertion; readers see either the
        old tuple or the new one, so lookups need no lock.
        """
        self.plans = tuple(plans)

    @property
    def last_plan(self):
        """The plan the latest call ran (None before the first call)."""
        return self.last

    def forget_last(self):
        """Drop the fast-path plan (the next call takes the slow path)."""
        self.last = None

    def __call__(self, *args):
        return self.call(args)

    def call_tuple(self, tuple args):
        """``dispatcher(*args)`` for callers that already hold the argument tuple."""
        return self.call(args)

    cdef object call(self, tuple args):
        cdef object result = self.call_fast(args, False)
        if result is _MISS:
            result = self._slow(args)
        return _as_result(self, result)

    cdef object call_fast(self, tuple args, bint typed_only):
        """Run the cached plan ``args`` fit (the last one first), else return ``_MISS``.

        With ``typed_only``, a plan with an unchecked (``any``) argument slot is a miss.
        """
        cdef Plan last = self.last
        cdef object result = _MISS
        cdef Plan plan
        if last is not None:
            result = _try_plan(last, args, typed_only)
            if result is not _MISS:
                return result
        for candidate in self.plans:
            plan = <Plan>candidate
            if plan is last:
                continue
            result = _try_plan(plan, args, typed_only)
            if result is not _MISS:
                self.last = plan
                return result
        return _MISS

    cdef object _slow(self, tuple args):
        self.slow_calls += 1
        plan, args = self.builder(args)
        self.last = plan
        return plan.run(args)

    def __repr__(self):
        return f"<Dispatcher {self.name}({self.n_args} args)>"


cdef inline object _as_result(Dispatcher dispatcher, object result):
    """``result`` made into the dispatcher's NamedTuple class, if it has one and result is a tuple."""
    if dispatcher.result_class is not None and type(result) is tuple:
        return dispatcher.result_class._make(result)
    return result


# ------------------------------------------------------------ entry points
# ``ScriptModule.__call__`` and ``ScriptFunction.__call__`` are these
# functions: a Cython function stored on a Python class is a method
# descriptor, so ``module(x)`` reaches the Dispatcher without a Python frame.

from jitcore._runtime import tracing_state as _tracing_state_module

# The tracer's per-thread state.  Read through the thread's ``__dict__``:
# ``getattr(state, "tracer", None)`` raises and catches an AttributeError on
# every thread that never traced (cost: docs/performance.md, "Measurements
# behind the code").
cdef object _tracing_state = _tracing_state_module.state


cdef inline bint _tracing():
    return _tracing_state.__dict__.get("tracer") is not None


cdef extern from "Python.h":
    PyObject** _PyObject_GetDictPtr(PyObject*)


cdef inline object _forward_of(object module):
    """``module._forward_dispatcher`` read from the instance dict.

    ScriptModule defines ``__getattr__``, which routes every attribute read
    through a slower hook; the instance dict is where the value lives.
    """
    cdef PyObject** dict_ptr = _PyObject_GetDictPtr(<PyObject*>module)
    cdef PyObject* value
    if dict_ptr != NULL and dict_ptr[0] != NULL:
        value = PyDict_GetItem(<object>dict_ptr[0], "_forward_dispatcher")
        if value != NULL:
            return <object>value
    return getattr(module, "_forward_dispatcher", None)


# The entry points are method descriptors over a METH_FASTCALL | METH_KEYWORDS C
# function, not ``def f(self, *args, **kwargs)``: Cython gives such a def a new
# kwargs dict on every call (its cost: docs/performance.md), while the C entry
# builds one only when keywords come.  ``PyDescr_NewMethod`` over ``object`` makes
# a descriptor that binds like a method on any class it is stored on.
cdef extern from *:
    """
    typedef PyObject *(*jc_call_fn)(PyObject *self, PyObject *args, PyObject *kwargs);
    static jc_call_fn jc_call_targets[2];

    /* self(*args, **kwargs) -> jc_call_targets[which](self, args tuple, kwargs dict or NULL) */
    static PyObject *jc_call_entry(int which, PyObject *self, PyObject *const *args,
                                   Py_ssize_t nargsf, PyObject *kwnames) {
        Py_ssize_t n = PyVectorcall_NARGS(nargsf), k;
        Py_ssize_t n_keywords = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
        PyObject *tuple = PyTuple_New(n), *kwargs = NULL, *result;
        if (tuple == NULL) return NULL;
        for (k = 0; k < n; k++) {
            Py_INCREF(args[k]);
            PyTuple_SET_ITEM(tuple, k, args[k]);
        }
        if (n_keywords > 0) {
            kwargs = PyDict_New();
            for (k = 0; kwargs != NULL && k < n_keywords; k++) {
                if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(kwnames, k), args[n + k]) < 0) {
                    Py_CLEAR(kwargs);
                }
            }
            if (kwargs == NULL) {
                Py_DECREF(tuple);
                return NULL;
            }
        }
        result = jc_call_targets[which](self, tuple, kwargs);
        Py_DECREF(tuple);
        Py_XDECREF(kwargs);
        return result;
    }
    static PyObject *jc_module_entry(PyObject *self, PyObject *const *args, Py_ssize_t nargsf,
                                     PyObject *kwnames) {
        return jc_call_entry(0, self, args, nargsf, kwnames);
    }
    static PyObject *jc_function_entry(PyObject *self, PyObject *const *args, Py_ssize_t nargsf,
                                       PyObject *kwnames) {
        return jc_call_entry(1, self, args, nargsf, kwnames);
    }
    static PyMethodDef jc_call_defs[2] = {
        {"script_module_call", (PyCFunction)(void (*)(void))jc_module_entry,
         METH_FASTCALL | METH_KEYWORDS,
         "module(*args, **kwargs): run the compiled forward (ScriptModule.__call__)."},
        {"script_function_call", (PyCFunction)(void (*)(void))jc_function_entry,
         METH_FASTCALL | METH_KEYWORDS,
         "function(*args, **kwargs): run the compiled function (ScriptFunction.__call__)."},
    };
    static PyObject *jc_call_method(int which, jc_call_fn target) {
        jc_call_targets[which] = target;
        return PyDescr_NewMethod(&PyBaseObject_Type, &jc_call_defs[which]);
    }
    """
    ctypedef PyObject* (*jc_call_fn)(PyObject*, PyObject*, PyObject*) except NULL
    object jc_call_method(int which, jc_call_fn target)


# The C entry's targets: a new reference, or NULL with the exception set.
cdef PyObject* _module_call(PyObject* self, PyObject* args, PyObject* kwargs) except NULL:
    result = _call_module(<object>self, <tuple>args, kwargs)
    Py_INCREF(result)
    return <PyObject*>result


cdef PyObject* _function_call(PyObject* self, PyObject* args, PyObject* kwargs) except NULL:
    result = _call_function(<object>self, <tuple>args, kwargs)
    Py_INCREF(result)
    return <PyObject*>result


cdef object _call_module(object self, tuple args, PyObject* kwargs):
    """``module(*args, **kwargs)``: run the compiled ``forward`` (``ScriptModule.__call__``).

    Keyword arguments are bound in Python to a positional tuple by the
    module's call signature (``ScriptModule._bind_call``), as TorchScript binds
    them by the schema's names.  While a trace runs on this thread the call
    goes through ``Module.__call__`` so that the tracer records it as a module
    call.  A call whose arguments are all checked by the last plan's signature
    (ndarrays, numbers, None) cannot carry traced values, so it runs without
    looking at the tracer.
    """
    cdef object dispatcher = _forward_of(self)
    cdef object result
    if kwargs != NULL:
        args = self._bind_call("forward", args, <object>kwargs)
    if dispatcher is not None:
        result = (<Dispatcher>dispatcher).call_fast(args, True)
        if result is not _MISS:
            return _as_result(<Dispatcher>dispatcher, result)
    if _tracing():
        # the class says how a trace records its call (``Module.__call__``)
        return type(self)._traced_call(self, *args)
    if dispatcher is None:
        dispatcher = self.executor("forward").dispatcher
    return (<Dispatcher>dispatcher).call(args)


cdef object _call_function(object self, tuple args, PyObject* kwargs):
    """``function(*args, **kwargs)``: run the compiled function (``ScriptFunction.__call__``);
    keyword arguments are bound by the function's call signature first.  While a trace
    runs on this thread, a call the last plans do not take (traced values) is recorded."""
    cdef object executor = self._executor
    cdef object result
    if kwargs != NULL:
        args = self._bind_call(args, <object>kwargs)
    if executor is None:
        executor = self.executor
    result = (<Dispatcher>executor._dispatcher).call_fast(args, True)
    if result is not _MISS:
        return _as_result(<Dispatcher>executor._dispatcher, result)
    if _tracing():
        # a trace records the call (its graph inlined into the trace), as it records a
        # ScriptModule's
        return self._traced_call(*args)
    return (<Dispatcher>executor._dispatcher).call(args)


#: ``ScriptModule.__call__``: a method descriptor (see above).
script_module_call = jc_call_method(0, _module_call)
#: ``ScriptFunction.__call__``.
script_function_call = jc_call_method(1, _function_call)
