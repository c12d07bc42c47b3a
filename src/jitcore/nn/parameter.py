"""``Parameter``: an ndarray that a :class:`~jitcore.nn.Module` registers as trainable state."""

import numpy as np

__all__ = ["Parameter"]


class Parameter(np.ndarray):
    """An ndarray marked as a module parameter.

    Assigning a ``Parameter`` to a module attribute registers it (``named_parameters``,
    ``state_dict``), as ``torch.nn.Parameter`` does.  It is an ordinary ndarray in every
    other respect; results of arithmetic on it are plain ndarrays, so that derived values are
    never mistaken for parameters.

    Parameters
    ----------
    data : array_like, optional
        The initial value.  A C-contiguous ndarray keeps its dtype and is shared, not copied
        (as ``torch.nn.Parameter`` shares its tensor); other array-likes (lists, Python
        numbers) become float32, the default parameter dtype.  ``None`` gives an empty float32
        array.
    """

    def __new__(cls, data=None):
        if data is None:
            array = np.empty(0, dtype=np.float32)
        elif isinstance(data, np.ndarray):
            array = data
        else:
            array = np.asarray(data, dtype=np.float32)
        return np.ascontiguousarray(array).view(cls)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # Ufunc results (param * 2, np.tanh(param)) are new values, not parameters.
        result = super().__array_wrap__(array, context, return_scalar)
        if isinstance(result, Parameter):
            return result.view(np.ndarray)
        return result

    def __repr__(self):
        return "Parameter containing:\n" + repr(np.asarray(self))
