from jitcore._runtime.types cimport JitType

cdef class SourceRange:
    cdef readonly str filename
    cdef readonly int line
    cdef readonly int col
    cdef readonly int end_line
    cdef readonly int end_col
    cdef readonly str source

cdef class Use:
    cdef readonly Node user
    cdef readonly Py_ssize_t offset

cdef class Value:
    cdef Node _node
    cdef Py_ssize_t _offset
    cdef list _uses
    cdef JitType _type
    cdef str _name
    cdef Py_ssize_t _unique
    cdef Graph _graph

cdef class Node:
    cdef readonly str kind
    cdef list _inputs
    cdef list _outputs
    cdef list _blocks
    cdef dict _attrs
    cdef Node _prev
    cdef Node _next
    cdef Block _owning_block
    cdef Graph _graph
    cdef public SourceRange source_range
    cdef bint _destroyed
    cdef Value _new_output(self, JitType t)
    cdef _check_graph(self, Value v)

cdef class Block:
    cdef Node _param
    cdef Node _return
    cdef Node _owning_node
    cdef Graph _graph
    cdef void _destroy(self)

cdef class Graph:
    cdef Block _block
    cdef dict _names
    cdef dict _name_suffixes
    cdef Py_ssize_t _next_unique
    cdef Node _insert_before
