"""A restricted reader of the pickles in TorchScript archives, written over the opcodes.

``pickle.Unpickler`` resolves every ``GLOBAL`` with ``find_class`` (an import)
and calls what it finds; this reader never does either.  It interprets the
opcodes torch's pickler emits (protocols 2 to 4: containers, numbers, strings,
memo, ``GLOBAL``/``REDUCE``/``NEWOBJ``/``BUILD``/``BINPERSID``) on its own
stack, and a ``GLOBAL`` may only name one of:

- ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter`` /
  ``_rebuild_parameter_with_state``: a tensor, an ndarray viewing the archive;
- ``torch.<Name>Storage``: the dtype token of a storage persistent id;
- ``collections.OrderedDict``: a ``dict``;
- ``torch.jit._pickle.build_*list`` and ``restore_type_tag``: the list or value
  they wrap;
- ``__torch__.<path>.<Class>``: an ``ObjectRecord`` whose ``BUILD`` fills its
  attribute dict.

Any other global (``__torch__.torch.classes.*`` custom classes, quantized or
sparse tensor rebuilds, anything at all) and any other opcode is a
``FormatError`` naming it and its byte offset.  Sizes are bounded by the pickle's
own length; the stack and memo by caps.
"""

import struct

from jitcore.serialization.problems import malformed
from jitcore.serialization.torchscript.records import Global, ObjectRecord, StorageClass

__all__ = ["read_pickle"]

#: Stack depth and memo size caps (torch's pickles of real models stay far below).
MAX_STACK = 1_000_000
MAX_MEMO = 1_000_000
#: ``__torch__.torch.classes.*`` are C++ custom classes: their state is only meaningful to their C++ code.
_CUSTOM_CLASS_PREFIX = "__torch__.torch.classes."
#: Globals torch writes that jitcore recognises and refuses, with the reason given.
_REFUSED = {
    ("torch._utils", "_rebuild_qtensor"): "quantized tensors are not supported",
    ("torch._utils", "_rebuild_sparse_tensor"): "sparse tensors are not supported",
    ("torch._utils", "_rebuild_sparse_csr_tensor"): "sparse tensors are not supported",
    ("torch._utils", "_rebuild_nested_tensor"): "nested tensors are not supported",
    ("torch._utils", "_rebuild_meta_tensor_no_storage"): "meta tensors have no data",
    ("torch._utils", "_rebuild_wrapper_subclass"): "tensor subclasses are not supported",
}
_IDENTITY = {("torch.jit._pickle", name) for name in
             ("build_intlist", "build_tensorlist", "build_doublelist", "build_boollist", "build_genericlist")}


class _Mark:
    __slots__ = ()


_MARK = _Mark()


class _Reader:
    def __init__(self, data, where, persistent_load, tensor):
        self.data = data
        self.where = where
        self.persistent_load = persistent_load
        self.tensor = tensor
        self.position = 0
        self.stack = []
        self.memo = {}

    # ------------------------------------------------------------------ bytes
    def fail(self, field, detail):
        return malformed(self.where, field, f"{detail} (at byte {self.position})")

    def take(self, count):
        end = self.position + count
        if count < 0 or end > len(self.data):
            raise self.fail("length", f"{count} bytes do not fit in the {len(self.data)}-byte pickle (truncated)")
        chunk = self.data[self.position:end]
        self.position = end
        return chunk

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def line(self):
        end = self.data.find(b"\n", self.position)
        if end < 0:
            raise self.fail("line", "a text argument has no end of line (truncated)")
        text = self.data[self.position:end]
        self.position = end + 1
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("line", f"not UTF-8: {text[:64]!r}") from None

    def text(self, count):
        raw = self.take(count)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("string", f"not UTF-8: {raw[:64]!r}") from None

    # ------------------------------------------------------------------ stack
    def push(self, value):
        if len(self.stack) >= MAX_STACK:
            raise self.fail("stack", f"more than {MAX_STACK} values")
        self.stack.append(value)

    def pop(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise self.fail("stack", "an opcode needs a value but the stack (or its current mark) is empty")
        return self.stack.pop()

    def top(self):
        if not self.stack or self.stack[-1] is _MARK:
            raise self.fail("stack", "an opcode needs a value but the stack (or its current mark) is empty")
        return self.stack[-1]

    def pop_mark(self):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index] is _MARK:
                items = self.stack[index + 1:]
                del self.stack[index:]
                return items
        raise self.fail("mark", "no MARK before this opcode")

    def memoize(self, key):
        if len(self.memo) >= MAX_MEMO and key not in self.memo:
            raise self.fail("memo", f"more than {MAX_MEMO} entries")
        self.memo[key] = self.top()

    def recall(self, key):
        if key not in self.memo:
            raise self.fail("memo", f"memo key {key} was never stored")
        self.push(self.memo[key])

    # ---------------------------------------------------------------- globals
    def find_global(self, module, name):
        """The data token an allowed global stands for; never an import."""
        where = f"{module}.{name}"
        if module == "torch" and name.endswith("Storage"):
            return StorageClass(name)
        if module.startswith(_CUSTOM_CLASS_PREFIX) or f"{module}.".startswith(_CUSTOM_CLASS_PREFIX):
            raise self.fail("global", f"{where} is a C++ custom class (torch.classes); jitcore cannot run its code")
        if module == "__torch__" or module.startswith("__torch__."):
            if not name.isidentifier():
                raise self.fail("global", f"class name {name[:64]!r} is not an identifier")
            return Global(module, name)
        if (module, name) in _REFUSED:
            raise self.fail("global", f"{where}: {_REFUSED[module, name]}")
        if (module, name) in _IDENTITY or (module, name) in _READERS:
            return Global(module, name)
        raise self.fail("global", f"{where[:200]} is not one of the globals a TorchScript archive may name "
                        "(tensor rebuilds, storages, OrderedDict, torch.jit._pickle builders, __torch__ classes)")

    def reduce(self, function, args):
        if not isinstance(function, Global) or not isinstance(args, tuple):
            raise self.fail("REDUCE", f"cannot call {type(function).__name__} with {type(args).__name__}")
        key = (function.module, function.name)
        if key in _IDENTITY:
            if len(args) != 1:
                raise self.fail("REDUCE", f"{function} takes one argument, got {len(args)}")
            return args[0]
        if key in _READERS:
            return _READERS[key](self, function, args)
        raise self.fail("REDUCE", f"{function} cannot be called (a __torch__ class is made with NEWOBJ)")

    def new_object(self, cls, args):
        if not isinstance(cls, Global) or not cls.module.startswith("__torch__"):
            raise self.fail("NEWOBJ", f"only __torch__ classes can be instantiated, got {cls}")
        if args != ():
            raise self.fail("NEWOBJ", f"{cls} is instantiated with arguments {args!r}"[:200])
        return ObjectRecord(str(cls))

    def build(self, target, state):
        if not isinstance(target, ObjectRecord):
            raise self.fail("BUILD", f"only __torch__ objects take a state, got {type(target).__name__}")
        if isinstance(state, dict) and all(isinstance(k, str) for k in state):
            target.attributes.update(state)
        else:
            target.state = state

    # ------------------------------------------------------------------- loop
    def run(self):
        while True:
            if self.position >= len(self.data):
                raise self.fail("STOP", "the pickle ends without a STOP opcode (truncated)")
            opcode = self.data[self.position]
            self.position += 1
            handler = _OPCODES.get(opcode)
            if handler is None:
                raise self.fail("opcode", f"opcode {bytes([opcode])!r} is not one torch's pickler writes")
            if handler(self):
                if self.position != len(self.data):
                    raise self.fail("STOP", f"{len(self.data) - self.position} bytes follow STOP")
                return self.pop()


def _hashable_key(reader, key):
    try:
        hash(key)
    except TypeError:
        raise reader.fail("dict key", f"a {type(key).__name__} cannot be a dict key") from None
    return key


def _set_items(reader, target, items):
    if not isinstance(target, dict):
        raise reader.fail("SETITEMS", f"expected a dict, found {type(target).__name__}")
    if len(items) % 2:
        raise reader.fail("SETITEMS", "an odd number of keys and values")
    for index in range(0, len(items), 2):
        target[_hashable_key(reader, items[index])] = items[index + 1]


def _append(reader, target, items):
    if not isinstance(target, list):
        raise reader.fail("APPENDS", f"expected a list, found {type(target).__name__}")
    target.extend(items)


# ----------------------------------------------------------------- readers of calls

def _rebuild_tensor(reader, function, args):
    if len(args) not in (6, 7):
        raise reader.fail(str(function), f"takes 6 or 7 arguments, got {len(args)}")
    storage, offset, size, stride = args[:4]
    return reader.tensor(storage, offset, size, stride)


def _rebuild_parameter(reader, function, args):
    expected = 4 if function.name.endswith("_with_state") else 3
    if len(args) != expected:
        raise reader.fail(str(function), f"takes {expected} arguments, got {len(args)}")
    return args[0]                      # the parameter's tensor; __parameters__ says which are parameters


def _ordered_dict(reader, function, args):
    if args not in ((), ([],)):
        raise reader.fail(str(function), f"expected no arguments, got {args!r}"[:200])
    return {}


def _restore_type_tag(reader, function, args):
    if len(args) != 2 or not isinstance(args[1], str):
        raise reader.fail(str(function), "takes a value and a type string")
    return args[0]


_READERS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch.jit._pickle", "restore_type_tag"): _restore_type_tag,
}


# ------------------------------------------------------------------------- opcodes

_OPCODES = {}


def _define(code):
    def register(handler):
        _OPCODES[code[0]] = handler
        return handler
    return register


#: Opcodes that push a constant: MARK, NONE, NEWTRUE, NEWFALSE, EMPTY_TUPLE.
_CONSTANTS = {b"(": _MARK, b"N": None, b"\x88": True, b"\x89": False, b")": ()}
#: Opcodes that push one fixed-size number, with its struct format: BININT1, BININT2, BININT, BINFLOAT.
_NUMBERS = {b"K": "<B", b"M": "<H", b"J": "<i", b"G": ">d"}

for _code, _value in _CONSTANTS.items():
    _OPCODES[_code[0]] = lambda r, value=_value: r.push(value)
for _code, _format in _NUMBERS.items():
    _OPCODES[_code[0]] = lambda r, number_format=_format: r.push(r.unpack(number_format))


@_define(b"\x80")
def _proto(r):
    version = r.take(1)[0]
    if version > 5:
        raise r.fail("PROTO", f"pickle protocol {version} is newer than 5")


@_define(b"\x95")
def _frame(r):
    r.unpack("<Q")        # frames only group opcodes; the data is read as one buffer anyway


@_define(b".")
def _stop(r):
    return True


@_define(b"\x8a")
def _long1(r):
    r.push(int.from_bytes(r.take(r.take(1)[0]), "little", signed=True))


@_define(b"\x8b")
def _long4(r):
    count = r.unpack("<i")
    if count > 64:
        raise r.fail("LONG4", f"a {count}-byte integer is far beyond int64")
    r.push(int.from_bytes(r.take(count), "little", signed=True))


@_define(b"X")
def _binunicode(r):
    r.push(r.text(r.unpack("<I")))


@_define(b"\x8c")
def _short_binunicode(r):
    r.push(r.text(r.take(1)[0]))


@_define(b"\x8d")
def _binunicode8(r):
    r.push(r.text(r.unpack("<Q")))


@_define(b"C")
def _short_binbytes(r):
    r.push(bytes(r.take(r.take(1)[0])))


@_define(b"B")
def _binbytes(r):
    r.push(bytes(r.take(r.unpack("<I"))))


@_define(b"t")
def _tuple(r):
    r.push(tuple(r.pop_mark()))


@_define(b"\x85")
def _tuple1(r):
    r.push((r.pop(),))


@_define(b"\x86")
def _tuple2(r):
    second = r.pop()
    r.push((r.pop(), second))


@_define(b"\x87")
def _tuple3(r):
    third = r.pop()
    second = r.pop()
    r.push((r.pop(), second, third))


@_define(b"]")
def _empty_list(r):
    r.push([])


@_define(b"l")
def _list(r):
    r.push(r.pop_mark())


@_define(b"a")
def _append_one(r):
    value = r.pop()
    _append(r, r.top(), [value])


@_define(b"e")
def _appends(r):
    items = r.pop_mark()
    _append(r, r.top(), items)


@_define(b"}")
def _empty_dict(r):
    r.push({})


@_define(b"d")
def _dict(r):
    items = r.pop_mark()
    target = {}
    _set_items(r, target, items)
    r.push(target)


@_define(b"s")
def _setitem(r):
    value = r.pop()
    key = r.pop()
    _set_items(r, r.top(), [key, value])


@_define(b"u")
def _setitems(r):
    items = r.pop_mark()
    _set_items(r, r.top(), items)


@_define(b"q")
def _binput(r):
    r.memoize(r.take(1)[0])


@_define(b"r")
def _long_binput(r):
    r.memoize(r.unpack("<I"))


@_define(b"\x94")
def _memoize(r):
    r.memoize(len(r.memo))


@_define(b"h")
def _binget(r):
    r.recall(r.take(1)[0])


@_define(b"j")
def _long_binget(r):
    r.recall(r.unpack("<I"))


@_define(b"c")
def _global(r):
    module = r.line()
    r.push(r.find_global(module, r.line()))


@_define(b"\x93")
def _stack_global(r):
    name = r.pop()
    module = r.pop()
    if not isinstance(module, str) or not isinstance(name, str):
        raise r.fail("STACK_GLOBAL", "module and name must be strings")
    r.push(r.find_global(module, name))


@_define(b"R")
def _reduce(r):
    args = r.pop()
    r.push(r.reduce(r.pop(), args))


@_define(b"\x81")
def _newobj(r):
    args = r.pop()
    r.push(r.new_object(r.pop(), args))


@_define(b"b")
def _build(r):
    state = r.pop()
    r.build(r.top(), state)


@_define(b"Q")
def _binpersid(r):
    r.push(r.persistent_load(r.pop()))


def read_pickle(data, where, persistent_load, tensor):
    """The value a TorchScript pickle describes, read without importing or calling anything.

    Parameters
    ----------
    data : bytes
        The whole pickle (``data.pkl`` or ``constants.pkl``).
    where : str
        The entry name, for error messages.
    persistent_load : callable
        ``persistent_load(pid)`` resolves a storage persistent id tuple.
    tensor : callable
        ``tensor(storage, offset, size, stride)`` makes one tensor of a storage.

    Returns
    -------
    object
        ``ObjectRecord``, ndarray, ``dict``, ``list``, ``tuple``, ``str``,
        ``bytes``, ``int``, ``float``, ``bool`` or ``None``, nested.

    Raises
    ------
    jitcore.errors.FormatError
        Naming the entry, the opcode or global and the byte offset.
    """
    return _Reader(bytes(data), where, persistent_load, tensor).run()
