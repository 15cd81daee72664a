"""Documentation: every public name has a docstring with an example, and every example runs.

The public names are found programmatically (a module's ``__all__``, or its
names without a leading underscore), so a name added later is covered without
editing this file. The doctests run against the installed package.
"""
import doctest
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import fastdl

# The modules whose public names form the documented API (issue 10, section 7).
# A public name that is itself a fastdl module is walked as well.
API_MODULES = [
    "fastdl", "fastdl.nn", "fastdl.nn.functional", "fastdl.nn.init", "fastdl.nn.utils",
    "fastdl.optim", "fastdl.optim.lr_scheduler", "fastdl.data", "fastdl.metrics",
    "fastdl.train", "fastdl.callbacks",
]
# Names every example may use without importing them.
DOCTEST_GLOBALS = {"fastdl": fastdl, "np": np, "nn": fastdl.nn, "F": fastdl.nn.functional}
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
EXAMPLE_HEADER = re.compile(r"^Examples?:\s*$", re.MULTILINE)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _public_names(mod):
    names = getattr(mod, "__all__", None)
    if names is not None:
        return list(names)
    # No __all__: every name without an underscore that is fastdl's own (not
    # `np` or `math` imported for the module's use).
    out = []
    for name in dir(mod):
        if name.startswith("_"):
            continue
        obj = getattr(mod, name)
        if isinstance(obj, types.ModuleType):
            if obj.__name__.startswith("fastdl."):
                out.append(name)
        elif (getattr(obj, "__module__", None) or "").startswith("fastdl") or not callable(obj):
            out.append(name)
    return out


def _is_constant(obj):
    """Data such as the dtype objects fastdl.float32: no docstring of their own."""
    return not (isinstance(obj, types.ModuleType) or inspect.isclass(obj) or callable(obj))


def _api():
    """(qualified name, object, exporting module) for every public name."""
    todo, seen_mods, items = list(API_MODULES), set(), []
    while todo:
        modname = todo.pop(0)
        if modname in seen_mods:
            continue
        seen_mods.add(modname)
        mod = importlib.import_module(modname)
        items.append((modname, mod, mod))
        for name in _public_names(mod):
            obj = getattr(mod, name)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith("fastdl") and not obj.__name__.startswith("fastdl._"):
                    todo.append(obj.__name__)
                continue
            items.append((f"{modname}.{name}", obj, mod))
    return items


API = _api()


def test_api_is_enumerated():
    names = {n for n, _, _ in API}
    # The enumeration finds what a user reaches for first; if it found nothing
    # the completeness test below would pass vacuously.
    for expected in ["fastdl.Tensor", "fastdl.nn.Linear", "fastdl.nn.functional.relu",
                     "fastdl.nn.init.kaiming_uniform_", "fastdl.optim.Adam",
                     "fastdl.optim.lr_scheduler.OneCycleLR", "fastdl.data.DataLoader",
                     "fastdl.metrics.Accuracy", "fastdl.Trainer", "fastdl.callbacks.EarlyStopping"]:
        assert expected in names
    assert len(names) > 250


def test_every_public_name_has_summary_and_example():
    bad = []
    for name, obj, mod in API:
        if _is_constant(obj):
            # A constant cannot carry a docstring: the module that exports it
            # must describe it, by name, in its own docstring.
            short = name.rsplit(".", 1)[1]
            if not re.search(r"``%s``" % re.escape(short), mod.__doc__ or ""):
                bad.append(f"{name}: a constant not described as ``{short}`` in {mod.__name__}'s docstring")
            continue
        # The object's own docstring: inspect.getdoc would lend a class its base's.
        doc = inspect.cleandoc(obj.__doc__) if isinstance(obj.__doc__, str) else None
        if not doc or not doc.strip():
            bad.append(f"{name}: no docstring")
            continue
        summary = doc.strip().splitlines()[0].strip()
        if len(summary) < 8:
            bad.append(f"{name}: no one-line summary")
        if isinstance(obj, types.ModuleType):
            continue  # modules: a summary; their names carry the examples
        m = EXAMPLE_HEADER.search(doc)
        if m is None or ">>>" not in doc[m.end():]:
            bad.append(f"{name}: no 'Example:' section with a >>> line")
    assert not bad, f"{len(bad)} public names are not documented:\n" + "\n".join(bad)


def _fastdl_modules():
    """Every importable fastdl module whose docstrings hold examples."""
    mods = []
    for info in pkgutil.walk_packages(fastdl.__path__, "fastdl."):
        if "._" in info.name or info.name.startswith("fastdl.bench"):
            continue
        mods.append(importlib.import_module(info.name))
    return [fastdl] + mods


def _doctests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests, seen = [], set()
    for mod in _fastdl_modules():
        for t in finder.find(mod, mod.__name__, extraglobs=DOCTEST_GLOBALS):
            if t.examples and t.name not in seen:
                seen.add(t.name)
                tests.append(t)
    # Objects the finder does not reach from their module (compiled functions).
    for name, obj, _ in API:
        if isinstance(obj, types.ModuleType) or inspect.isclass(obj) or inspect.isfunction(obj):
            continue
        if callable(obj) and (inspect.getdoc(obj) or ""):
            for t in finder.find(obj, name, globs=dict(DOCTEST_GLOBALS)):
                if t.examples and t.name not in seen:
                    seen.add(t.name)
                    tests.append(t)
    return sorted(tests, key=lambda t: t.name)


DOCTESTS = _doctests()


def test_doctests_found():
    # Guards against a finder that silently collects nothing.
    assert len(DOCTESTS) > 250


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples_run(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)       # examples that write files write them here
    fastdl.manual_seed(0)
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    out = []
    result = runner.run(test, out=out.append, clear_globs=True)
    assert result.failed == 0, "".join(out)


def _doc_directives():
    """Targets of the autodoc directives in docs/api/*.rst: (objects, modules with members)."""
    objects, modules = set(), set()
    for rst in sorted((Path(ROOT) / "docs" / "api").glob("*.rst")):
        text = rst.read_text()
        for m in re.finditer(r"^\.\. auto(\w+):: (\S+)\n((?:   .*\n)*)", text, re.M):
            kind, target, opts = m.groups()
            if kind == "module":
                if ":members:" in opts and ":no-members:" not in opts:
                    modules.add(target)
            else:
                objects.add(target)
    return objects, modules


def _resolve(dotted):
    # As autodoc reads "fastdl.tensor" in autofunction: the attribute tensor of fastdl.
    parts = dotted.split(".")
    for k in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for p in parts[k:]:
            obj = getattr(obj, p)
        return obj
    raise ImportError(dotted)


def test_every_public_name_is_in_the_api_reference():
    objects, modules = _doc_directives()
    assert objects and modules
    documented = {id(_resolve(t)) for t in objects}
    for modname in modules:
        mod = importlib.import_module(modname)
        documented.update(id(getattr(mod, n)) for n in _public_names(mod))
    missing = [name for name, obj, _ in API
               if not (isinstance(obj, types.ModuleType) or _is_constant(obj))
               and id(obj) not in documented]
    assert not missing, "not in docs/api/*.rst: " + ", ".join(missing)
