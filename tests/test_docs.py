"""The documentation runs: every ```python block of docs/*.md and README.md, and docstring examples."""

import doctest
import importlib
import os
import pkgutil
import re

import matplotlib
import pytest

import clusterlab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = sorted(
    [os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
     if f.endswith(".md")] + [os.path.join(ROOT, "README.md")]
)
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.slow  # runs every page's examples, compiling what they use (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_python_blocks_of_page_run(page, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    text = open(page, encoding="utf-8").read()
    blocks = BLOCK.findall(text)
    namespace = {"__name__": "__docs__"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{os.path.basename(page)}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is the point
            raise AssertionError(f"{os.path.basename(page)} block {i} failed: {exc!r}\n{code}")


def all_modules():
    names = []
    for info in pkgutil.walk_packages(clusterlab.__path__, "clusterlab."):
        if ".tests" in info.name or info.name.endswith("__main__"):
            continue  # __main__ runs the command line on import
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("module", all_modules())
def test_docstring_examples(module):
    matplotlib.use("Agg")
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module}"
