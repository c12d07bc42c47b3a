cdef class JitType:
    cdef readonly str kind
    cdef object _key
    cpdef bint is_subtype_of(self, JitType other)

cdef class TensorType(JitType):
    cdef readonly object dtype
    cdef readonly object shape

cdef class ListType(JitType):
    cdef readonly JitType elem

cdef class OptionalType(JitType):
    cdef readonly JitType elem

cdef class UnionType(JitType):
    cdef readonly tuple members

cdef class TupleType(JitType):
    cdef readonly tuple elems

cdef class DictType(JitType):
    cdef readonly JitType key
    cdef readonly JitType value

cdef class ClassType(JitType):
    cdef readonly str name
