"""The seed notebook's data sets, as functions.

All generators are deterministic (their ``random_state`` defaults to the
seed's), so that the seed's printed figures can be checked against them.
"""

import numpy as np

FIVE_BLOBS_CENTERS = np.array(
    [[0.2, 2.3], [-1.5, 2.3], [-2.8, 1.8], [-2.8, 2.8], [-2.8, 1.3]]
)
FIVE_BLOBS_STD = np.array([0.4, 0.3, 0.1, 0.1, 0.1])


def load_five_blobs(n_samples=2000, random_state=7, return_y=False):
    """The five blobs of the seed's K-Means sections.

    ``make_blobs(n_samples=2000, centers=FIVE_BLOBS_CENTERS,
    cluster_std=[0.4, 0.3, 0.1, 0.1, 0.1], random_state=7)``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), only if ``return_y``

    >>> load_five_blobs().shape
    (2000, 2)
    """
    from sklearn.datasets import make_blobs

    X, y = make_blobs(
        n_samples=n_samples,
        centers=FIVE_BLOBS_CENTERS,
        cluster_std=FIVE_BLOBS_STD,
        random_state=random_state,
    )
    return (X, y) if return_y else X


def load_elongated_blobs(random_state=42, return_y=False):
    """Three elongated blobs of different densities (1250 points).

    Used by the seed for the limits of K-Means and for Gaussian mixtures:
    two blobs of 500 points stretched by a linear map, plus a round blob of
    250 points shifted by (6, -8).

    >>> X, y = load_elongated_blobs(return_y=True)
    >>> X.shape, sorted(set(y.tolist()))
    ((1250, 2), [0, 1])
    """
    from sklearn.datasets import make_blobs

    X1, y1 = make_blobs(n_samples=1000, centers=((4, -4), (0, 0)), random_state=random_state)
    X1 = X1.dot(np.array([[0.374, 0.95], [0.732, 0.598]]))
    X2, y2 = make_blobs(n_samples=250, centers=1, random_state=random_state)
    X2 = X2 + [6, -8]
    X = np.r_[X1, X2]
    y = np.r_[y1, y2]
    return (X, y) if return_y else X


def load_moons(n_samples=1000, noise=0.05, random_state=42, return_y=False):
    """Two interleaving half-moons (the seed's DBSCAN and spectral data).

    >>> load_moons().shape
    (1000, 2)
    """
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return (X, y) if return_y else X


def load_iris(return_y=True):
    """Fisher's iris (scikit-learn's bundled copy): ``X`` (150, 4) and ``y``."""
    from sklearn.datasets import load_iris as _load_iris

    X, y = _load_iris(return_X_y=True)
    return (X, y) if return_y else X


def load_digits(return_y=True):
    """The 8x8 digits (scikit-learn's bundled copy): ``X`` (1797, 64) and ``y``."""
    from sklearn.datasets import load_digits as _load_digits

    X, y = _load_digits(return_X_y=True)
    return (X, y) if return_y else X


def make_mnist_like(n_samples=60000, n_features=784, n_clusters=10, random_state=0,
                    dtype=np.float32):
    """An MNIST-shaped array (values in [0, 255]) with overlapping clusters.

    Stands in for ``fetch_openml('mnist_784')`` on machines without internet:
    ``n_clusters`` sparse-ish prototype images plus noise, clipped to
    [0, 255], so K-Means has real work to do (clusters overlap).
    """
    rng = np.random.default_rng(random_state)
    prototypes = rng.uniform(0, 255, size=(n_clusters, n_features))
    prototypes *= rng.random((n_clusters, n_features)) < 0.2
    labels = rng.integers(n_clusters, size=n_samples)
    X = np.empty((n_samples, n_features), dtype=dtype)
    step = 8192
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        block = prototypes[labels[start:stop]] + rng.normal(
            0, 60, size=(stop - start, n_features)
        )
        X[start:stop] = np.clip(block, 0, 255)
    return X


def to_memmap(X, path, dtype=np.float32):
    """Write ``X`` to ``path`` as a raw memmap and return it opened read-only.

    The returned array is ``np.memmap(path, dtype, mode="r", shape=X.shape)``,
    exactly what the seed builds for MiniBatchKMeans on data bigger than RAM.
    ``X`` may itself be a memmap or any array-like; it is copied in blocks, so
    the copy never holds more than one block in memory.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> m = to_memmap(np.eye(3), os.path.join(d, "x.mmap"))
    >>> m.dtype, m.shape, m.flags.writeable
    (dtype('float32'), (3, 3), False)
    """
    import os

    import scipy.sparse as sp

    if sp.issparse(X):
        raise TypeError("to_memmap writes dense rows; pass X.toarray() (it must fit in "
                        "memory) or write the sparse matrix with scipy.sparse.save_npz.")
    X = np.asarray(X) if not hasattr(X, "shape") else X
    if np.ndim(X) < 1:
        raise ValueError(f"to_memmap needs an array of rows, got a scalar ({X!r}).")
    source = getattr(X, "filename", None) or getattr(getattr(X, "base", None), "filename",
                                                     None)
    if source is not None and os.path.exists(path) and os.path.exists(source) \
            and os.path.samefile(source, path):
        # opening the output ("w+") would empty the file before it is read
        raise ValueError(f"to_memmap would overwrite its own input: X is a memmap of {path}; "
                         "write to another path.")
    shape = tuple(X.shape)
    out = np.memmap(path, dtype=dtype, mode="w+", shape=shape)
    step = max(1, (64 * 2**20) // max(1, int(np.prod(shape[1:], dtype=np.int64)) * 8))
    for start in range(0, shape[0], step):
        out[start:start + step] = np.asarray(X[start:start + step], dtype=dtype)
    out.flush()
    del out
    return np.memmap(path, dtype=dtype, mode="r", shape=shape)


#: Built-in data sets by the names the command line accepts.
BUILTIN = {
    "five-blobs": lambda: load_five_blobs(return_y=True),
    "elongated-blobs": lambda: load_elongated_blobs(return_y=True),
    "moons": lambda: load_moons(return_y=True),
    "iris": lambda: load_iris(return_y=True),
    "digits": lambda: load_digits(return_y=True),
}
