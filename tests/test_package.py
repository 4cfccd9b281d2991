import subprocess
import sys

import clusterlab


def test_import_is_light():
    """`import clusterlab` must not import matplotlib, dask or numba."""
    code = (
        "import sys, clusterlab\n"
        "heavy = [m for m in ('matplotlib', 'dask', 'distributed', 'numba') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_export_resolves():
    for name in clusterlab.__all__:
        assert getattr(clusterlab, name) is not None, name


def test_unknown_attribute():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        clusterlab.nope
