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
