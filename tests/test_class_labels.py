"""minigrad.checks.check_class_labels: the one check of class labels, used by the losses and the datasets."""
import gzip

import numpy as np
import pytest

from minigrad import Tensor, Value, datasets
from minigrad.checks import check_class_labels


@pytest.mark.parametrize("labels", [
    [0, 2, 1], (0, 2, 1), np.array([0, 2, 1]), np.array([0, 2, 1], dtype=np.uint8), np.array([0.0, 2.0, 1.0]),
    np.array([0, 2, 1], dtype=np.float32), Tensor([0.0, 2.0, 1.0]), [Value(0.0), Value(2.0), Value(1.0)],
    [np.int64(0), np.int64(2), np.int64(1)],
])
def test_class_indices_in_every_form_become_an_intp_array(labels):
    out = check_class_labels(labels, 3, 3)
    assert out.dtype == np.intp and out.shape == (3,)
    np.testing.assert_array_equal(out, [0, 2, 1])


def test_booleans_are_classes_0_and_1():
    np.testing.assert_array_equal(check_class_labels(np.array([True, False]), 2, 2), [1, 0])


def test_without_n_classes_only_negative_labels_are_refused():
    np.testing.assert_array_equal(check_class_labels([0, 7, 1000], 3), [0, 7, 1000])
    with pytest.raises(ValueError, match=r"target -2 is not a class index \(class indices start at 0\)"):
        check_class_labels([0, -2, 1], 3)


def test_n_none_takes_any_number_of_labels_but_one_per_example():
    assert check_class_labels(np.arange(5), None).shape == (5,)
    with pytest.raises(ValueError, match=r"one class index per example, shape \(n,\), got shape \(2, 2\)"):
        check_class_labels(np.zeros((2, 2), int), None)


@pytest.mark.parametrize("labels, n, n_classes, message", [
    ([0, 1], 3, None, r"^cross_entropy: 3 rows of logits but targets of shape \(2,\)$"),
    ([0], 2, None, r"^cross_entropy: 2 rows of logits but targets of shape \(1,\)$"),
    ([0, 1], 1, None, r"^cross_entropy: 1 row of logits but targets of shape \(2,\)$"),
    (np.array([[0], [1]]), 2, None, r"targets of shape \(2, 1\) \(a column of labels\? flatten it with \.reshape"),
    ([0, 5, 1], 3, 3, r"^cross_entropy: target 5 is not a class index in 0\.\.2$"),
    ([0, -1, 1], 3, 3, r"^cross_entropy: target -1 is not a class index in 0\.\.2$"),
    ([0, 0.5, 1], 3, None, r"^cross_entropy: targets must be integer class indices, got float values such as 0\.5$"),
    ([0, np.inf], 2, None, r"got float values such as inf$"),
    (["a", "b"], 2, None, r"got text values such as 'a'$"),
    ([1 + 0j, 0j], 2, None, r"got complex values such as \(1\+0j\)$"),
    ([[0, 1], [2]], 2, None, r"must be integer class indices, one per example, got \[\[0, 1\], \[2\]\]"),
    ([0, 1], 2, 0, r"n_classes must be a positive integer, got 0"),
])
def test_mistakes_are_named(labels, n, n_classes, message):
    with pytest.raises(ValueError, match=message):
        check_class_labels(labels, n, n_classes)


def test_the_messages_take_the_callers_words():
    with pytest.raises(ValueError, match=r"^make_thing: 4 examples but labels of shape \(3,\)$"):
        check_class_labels([0, 1, 2], 4, what="labels", caller="make_thing", rows="examples")
    with pytest.raises(ValueError, match=r"^make_thing: label 9 is not a class index in 0\.\.1$"):
        check_class_labels([0, 9], 2, 2, what="labels", caller="make_thing")


# ----- the digits file uses it: a damaged label is refused, not truncated --------------------------


def write_digits(folder, last_label):
    rows = [",".join(["0"] * 64 + [str(i % 10)]) for i in range(1796)] + [",".join(["0"] * 64 + [last_label])]
    (folder / "data").mkdir()
    with gzip.open(folder / "data" / datasets.DIGITS_FILE, "wt", encoding="ascii") as f:
        f.write("\n".join(rows) + "\n")


class FakeResources:
    def __init__(self, folder):
        self.folder = folder

    def files(self, package):
        return self.folder


@pytest.mark.parametrize("label, message", [("10", r"label 10 is not a class index in 0\.\.9"),
                                            ("3.5", r"labels must be integer class indices, got float values such "
                                                    r"as 3\.5")])
def test_a_digits_file_with_a_label_that_is_not_a_digit_is_damaged(tmp_path, monkeypatch, label, message):
    write_digits(tmp_path, label)
    monkeypatch.setattr(datasets, "resources", FakeResources(tmp_path))
    with pytest.raises(ValueError, match=message + r": the file is damaged; reinstall the package"):
        datasets.load_digits()


def test_a_sound_digits_file_loads(tmp_path, monkeypatch):
    write_digits(tmp_path, "9")
    monkeypatch.setattr(datasets, "resources", FakeResources(tmp_path))
    digits = datasets.load_digits()
    assert digits.target.dtype == np.int64 and digits.target[-1] == 9 and digits.target[:10].tolist() == list(range(10))
