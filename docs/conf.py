"""Sphinx configuration: the API reference is built from the docstrings of the
installed fastdl package (``pip install ".[docs]"``), never from the source
tree, which holds no compiled extension."""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]

import fastdl  # noqa: E402  (the installed package)

project = "fastdl"
author = "fastdl contributors"
copyright = "fastdl contributors, MIT License"
release = fastdl.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

# Google-style docstrings; "Shapes" is fastdl's own section.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = ["Shapes"]
napoleon_use_rtype = False

autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autoclass_content = "class"

templates_path = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
html_theme_options = {"description": "Deep learning on CPUs", "fixed_sidebar": True}

# fastdl's docstrings are written to read well in help() and in a terminal:
# |x|, d^2, shapes such as (N, *), names such as kaiming_uniform_. Outside
# ``literals``, doctest blocks and bullets, characters that reStructuredText
# would take as markup (|substitution|, *emphasis*, target_) are escaped
# before napoleon reads the docstring, so they render as written.
import re  # noqa: E402

_LITERAL = re.compile(r"(``.+?``|`[^`]+`_?)")
_TARGET = re.compile(r"(\w)_(?=\W|$)")


def _escape(text):
    parts = _LITERAL.split(text)
    for i in range(0, len(parts), 2):
        p = parts[i].replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
        parts[i] = _TARGET.sub(r"\1\\_", p)
    return "".join(parts)


def _escape_docstring(app, what, name, obj, options, lines):
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>"):
            in_doctest = True
        elif not stripped:
            in_doctest = False
        if in_doctest or not stripped:
            continue
        bullet = ""
        if stripped.startswith(("* ", "- ")):
            indent = line[:len(line) - len(line.lstrip())]
            bullet, line = indent + stripped[:2], stripped[2:]
        lines[i] = bullet + _escape(line)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_docstring, priority=100)
