"""A ``sitecustomize.py`` that makes ``import matplotlib`` fail, as on a machine without the ``plots`` extra.

Put the folder ``without_matplotlib`` returns first on a child process's PYTHONPATH: the tests and the
sky-map bench run the bot that way to see it skip the picture.
"""

from __future__ import annotations

from pathlib import Path

NO_MATPLOTLIB = '''
import sys

class _NoMatplotlib:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoMatplotlib())
'''


def without_matplotlib(folder: Path) -> Path:
    """Write the blocker into ``folder`` (made as needed); returns the folder, for PYTHONPATH."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(NO_MATPLOTLIB)
    return folder
