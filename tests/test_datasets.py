import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import datasets


def test_five_blobs_matches_definition():
    X, y = datasets.load_five_blobs(return_y=True)
    X2, y2 = make_blobs(n_samples=2000, centers=datasets.FIVE_BLOBS_CENTERS,
                        cluster_std=[0.4, 0.3, 0.1, 0.1, 0.1], random_state=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_elongated_blobs_shape_and_groups():
    X, y = datasets.load_elongated_blobs(return_y=True)
    assert X.shape == (1250, 2)
    assert np.bincount(y).tolist() == [750, 500]
    # the third blob is the seed's mixture component at about (3.40, 1.06)
    np.testing.assert_allclose(X[1000:].mean(axis=0), [3.40, 1.06], atol=0.2)


def test_moons_iris_digits():
    assert datasets.load_moons().shape == (1000, 2)
    X, y = datasets.load_iris()
    assert X.shape == (150, 4) and y.shape == (150,)
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64)


def test_to_memmap_is_read_only_float32(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    m = datasets.to_memmap(X, tmp_path / "x.mmap")
    assert isinstance(m, np.memmap)
    assert m.dtype == np.float32 and m.shape == (4, 3)
    assert not m.flags.writeable
    np.testing.assert_array_equal(m, X.astype(np.float32))
    with pytest.raises(ValueError):
        m[0, 0] = 1


def test_mnist_like_shape_and_range():
    X = datasets.make_mnist_like(n_samples=500, random_state=1)
    assert X.shape == (500, 784) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 255
