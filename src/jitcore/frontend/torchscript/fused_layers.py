"""torch's fused inference kernels that archives call, compiled as the registry ops they fuse.

``torch.jit.trace`` under ``torch.no_grad()`` records an ``nn.TransformerEncoderLayer`` in
eval mode as one call of torch's fast path, ``torch._transformer_encoder_layer_fwd``.  jitcore
has no such op: the call compiles to the ops the layer is made of (layer norms, the packed
q/k/v projection, ``scaled_dot_product_attention``, the output projection, the feed-forward
block and the residual additions), in the order torch's own kernel applies them, and the
optimizer fuses them as it fuses a layer written out.
"""

from jitcore.frontend.script.emitter import python_constant
from jitcore.frontend.script.values import NOT_CONSTANT
from jitcore.frontend.script.errors import compile_error

__all__ = ["transformer_encoder_layer"]

_ENCODER_LAYER_ARGUMENTS = (
    "src", "embed_dim", "num_heads", "qkv_weight", "qkv_bias", "proj_weight", "proj_bias", "use_gelu",
    "norm_first", "eps", "norm_weight_1", "norm_bias_1", "norm_weight_2", "norm_bias_2", "ffn_weight_1",
    "ffn_bias_1", "ffn_weight_2", "ffn_bias_2", "mask", "mask_type")
_SPELLING = "torch._transformer_encoder_layer_fwd"


def transformer_encoder_layer(ctx, args, kwargs, where):
    """``torch._transformer_encoder_layer_fwd(src, embed_dim, num_heads, ...)`` as registry ops.

    ``embed_dim``, ``num_heads``, ``use_gelu``, ``norm_first`` and ``eps`` must be constants
    (the tracer records them so); a call with an attention mask, or with settings computed
    at run time, is a missing op (a load-time error where the archive's code reaches it).
    """
    names = _ENCODER_LAYER_ARGUMENTS
    if len(args) > len(names) or set(kwargs) - set(names[len(args):]):
        raise compile_error(f"{_SPELLING} takes the arguments {', '.join(names)}", where)
    given = dict(zip(names, args), **kwargs)
    missing = [name for name in names[:18] if name not in given]
    if missing:
        raise compile_error(f"{_SPELLING} without {', '.join(missing)}", where)
    settings = {name: python_constant(given[name]) for name in ("embed_dim", "num_heads", "use_gelu",
                                                                  "norm_first", "eps")}
    masked = any(name in given and python_constant(given[name]) is not None
                 for name in ("mask", "mask_type"))
    if masked or any(value is NOT_CONSTANT for value in settings.values()):
        # a call jitcore cannot compile (an attention mask, or settings computed at run time,
        # as in a scripted layer's fast path): a raise where it runs, and a load-time error
        # only if the archive's code can reach it (reachable_ops)
        from .dialect import missing_op
        return missing_op(ctx, _SPELLING + (" with an attention mask" if masked else
                                            " with computed settings"),
                          f"aten::{_SPELLING.rpartition('.')[2]}", args, kwargs, where)
    embed_dim, num_heads = settings["embed_dim"], settings["num_heads"]
    if not (isinstance(embed_dim, int) and isinstance(num_heads, int) and num_heads > 0
            and embed_dim % num_heads == 0):
        raise compile_error(f"{_SPELLING}: embed_dim {embed_dim!r} is not a multiple of num_heads "
                            f"{num_heads!r}", where)

    def op(kind, *inputs):
        return ctx.emit_op_call(kind, list(inputs), {}, where)

    def norm(x, which):
        return op("aten::layer_norm", x, [embed_dim], given[f"norm_weight_{which}"], given[f"norm_bias_{which}"],
                  settings["eps"], True)

    src, norm_first = given["src"], settings["norm_first"]
    x = norm(src, 1) if norm_first else src
    # (..., L, 3E) -> (..., L, 3, H, D): q, k, v as (..., H, L, D)
    qkv = op("aten::unflatten", op("aten::linear", x, given["qkv_weight"], given["qkv_bias"]), -1,
             [3, num_heads, embed_dim // num_heads])
    q, k, v = (op("aten::transpose", op("aten::select", qkv, -3, i), -3, -2) for i in range(3))
    heads = op("aten::transpose", op("aten::scaled_dot_product_attention", q, k, v), -3, -2)
    attention = op("aten::linear", op("aten::flatten", heads, -2, -1), given["proj_weight"], given["proj_bias"])
    x = op("aten::add", attention, src)
    if not norm_first:
        x = norm(x, 1)
    residual = x
    hidden = op("aten::linear", norm(x, 2) if norm_first else x, given["ffn_weight_1"], given["ffn_bias_1"])
    hidden = op("aten::gelu", hidden) if settings["use_gelu"] else op("aten::relu", hidden)
    x = op("aten::add", op("aten::linear", hidden, given["ffn_weight_2"], given["ffn_bias_2"]), residual)
    return norm(x, 2) if not norm_first else x
