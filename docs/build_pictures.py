"""Render the graph pictures of docs/tools.md into docs/pictures/ (run from the repository root).

    python docs/build_pictures.py

Needs the ``graphviz`` Python package and Graphviz's ``dot`` program (``pip install
'jitcore[draw]'``, ``apt-get install graphviz``).  The pictures are committed; rerun
this script when the drawing or the models change.  Fixed seeds: the same jitcore
gives the same DOT text.
"""

import pathlib
import sys
import warnings

import numpy as np

import jitcore
from jitcore import nn

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "pictures"


def _import(folder, module):
    sys.path.insert(0, str(ROOT / folder))
    try:
        return __import__(module)
    finally:
        sys.path.pop(0)


def resnet18():
    """The model zoo's port of torchvision's resnet18 (tests/models/test_model_resnet.py)."""
    return _import("tests/models", "test_model_resnet").resnet18().eval()


def pictures():
    """``{file name: (what to draw, draw options)}``."""
    tutorial = _import("examples", "tutorial")       # its network NN and its function fun
    nn.init.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((1, 4)).astype(np.float32)
    traced_nn = jitcore.trace(tutorial.NN().eval(), (x,))
    scripted_fun = jitcore.script(tutorial.fun)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jitcore.TracerWarning)
        cnn = resnet18()
    image = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    traced_cnn = jitcore.trace(cnn, (image,))
    fast_cnn = jitcore.optimize_for_inference(traced_cnn)
    return {
        "tutorial_traced_nn.svg": (traced_nn, {}),
        "tutorial_scripted_fun.svg": (scripted_fun, {}),
        "resnet18_traced.svg": (traced_cnn, {}),
        "resnet18_optimized.svg": (fast_cnn.graph_for(image), {}),
    }


def main():
    OUT.mkdir(exist_ok=True)
    for name, (model, options) in pictures().items():
        path = jitcore.draw(model, OUT / name, **options)
        print(f"wrote {pathlib.Path(path).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
