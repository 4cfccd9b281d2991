"""``import clusterlab`` exposes every public name of sklearn.cluster and
sklearn.mixture as clusterlab's own object.

PENDING lists the names other branches are adding; it must stay honest: a
name listed there that clusterlab already exposes fails the test (remove it
from the list), as does a name missing from clusterlab and not listed.
"""

import sklearn.cluster
import sklearn.mixture

import clusterlab

PENDING = set()


def sklearn_public_names():
    names = set()
    for module in (sklearn.cluster, sklearn.mixture):
        names.update(name for name in module.__all__ if not name.startswith("_"))
    return names


def _ours(name):
    try:
        return getattr(clusterlab, name)
    except AttributeError:
        return None


def test_every_public_name_is_clusterlabs_own():
    names = sklearn_public_names()
    assert len(names) >= 29  # sanity: scikit-learn 1.9 has 29
    missing = sorted(n for n in names - PENDING if _ours(n) is None)
    assert not missing, f"clusterlab lacks {missing}"
    borrowed = []
    for name in sorted(names - PENDING):
        obj = _ours(name)
        module = getattr(obj, "__module__", "") or ""
        if obj is getattr(sklearn.cluster, name, None) or obj is getattr(
                sklearn.mixture, name, None) or not module.startswith("clusterlab"):
            borrowed.append(f"{name} ({module})")
    assert not borrowed, f"these are not clusterlab's own objects: {borrowed}"


def test_pending_list_is_honest():
    names = sklearn_public_names()
    assert PENDING <= names, f"not scikit-learn names: {sorted(PENDING - names)}"
    landed = sorted(n for n in PENDING if _ours(n) is not None)
    assert not landed, f"now in clusterlab, remove from PENDING: {landed}"


def test_exports_listed_in_both_packages():
    import clusterlab.cluster as cl_cluster

    for name in sklearn_public_names() - PENDING:
        if hasattr(sklearn.cluster, name):
            assert name in cl_cluster.__all__, name
        assert name in clusterlab.__all__, name


def test_functions_named_like_their_module_stay_functions():
    # `from clusterlab.cluster import dbscan` gave the module dbscan.py once
    # that module had been imported (by the import itself, or by any DBSCAN
    # fit): the package's attribute was replaced by the submodule. A fresh
    # process, so that no earlier test has imported the modules.
    import subprocess
    import sys
    code = (
        "import types, numpy as np\n"
        "from clusterlab.cluster import dbscan, mean_shift, affinity_propagation\n"
        "import clusterlab.cluster as c\n"
        "c.DBSCAN, c.MeanShift, c.AffinityPropagation\n"
        "from clusterlab.cluster import dbscan as again\n"
        "import clusterlab.cluster.dbscan\n"
        "from clusterlab.cluster.dbscan import DBSCAN\n"
        "fs = [dbscan, mean_shift, affinity_propagation, again, c.dbscan, c.mean_shift,\n"
        "      c.affinity_propagation]\n"
        "assert all(isinstance(f, types.FunctionType) for f in fs), fs\n"
        "from clusterlab.cluster import *\n"
        "assert isinstance(mean_shift, types.FunctionType)\n"
        "X = np.random.RandomState(0).randn(40, 2)\n"
        "assert (dbscan(X, eps=1.0)[1] == DBSCAN(eps=1.0).fit(X).labels_).all()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
