"""fastdl._C: the Cython extensions over libfastdl (one module per kernel family).

Importing this package loads the core extension first, so that a source
tree without compiled extensions (a fresh clone, imported because Python
puts the current directory first on sys.path) fails with one message that
says what happened and what to do, instead of a bare "cannot import name
'_core'".
"""
import os as _os


def _explain(err):
    here = _os.path.dirname(_os.path.abspath(__file__))
    pkg = _os.path.dirname(here)
    root = _os.path.dirname(pkg)
    built = any(f.startswith("_core.") and f.endswith((".so", ".pyd"))
                for f in _os.listdir(here))
    source_tree = (_os.path.isfile(_os.path.join(root, "setup.py"))
                   and _os.path.isdir(_os.path.join(root, "csrc")))
    if source_tree and not built:
        return ("fastdl was imported from its source directory %s, which has no compiled "
                "extensions, instead of the installed package. Python looks in the current "
                "directory first: leave the source tree (cd elsewhere) and run Python again, or "
                "use the `fastdl` command (e.g. `fastdl demo`), which always runs the installed "
                "package. Install first with `pip install .` from %s if you have not."
                % (pkg, root))
    if not built:
        return ("fastdl's compiled extension _core is missing from %s: the installation is "
                "incomplete. Reinstall with `pip install --force-reinstall fastdl` (or "
                "`pip install .` from the source tree). (%s)" % (here, err))
    return ("fastdl's compiled extension in %s failed to load: %s. Rebuild it with "
            "`pip install --force-reinstall --no-cache-dir .` from the source tree."
            % (here, err))


try:
    from fastdl._C import _core  # noqa: F401
except ImportError as _e:
    raise ImportError(_explain(_e)) from None
